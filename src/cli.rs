//! The command grammar: one clap definition that parses both `imagelab`'s
//! argv and every REPL line into the same `Line` type. No IO happens here.
//!
//! The `docker` grammar follows the docker CLI's verbs, flags and usage
//! lines; positional arguments are collected loosely so that each verb can
//! report a wrong count with docker's own message.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// docker's help layout for one verb.
const DOCKER_HELP: &str = "\nUsage:  {usage}\n\n{about}\n\nOptions:\n{options}\n";

pub const DOCKER_USAGE: &str = "
Usage:  docker [OPTIONS] COMMAND

A self-sufficient runtime for containers

Common Commands:
  run         Create and run a new container from an image
  exec        Execute a command in a running container
  ps          List containers
  build       Build an image from a Dockerfile
  pull        Download an image from a registry
  push        Upload an image to a registry
  images      List images
  login       Authenticate to a registry
  logout      Log out from a registry
  search      Search Docker Hub for images
  version     Show the Docker version information

Management Commands:
  buildx*     Docker Buildx
  container   Manage containers
  image       Manage images
  manifest    Manage Docker image manifests and manifest lists
  system      Manage Docker
  trust       Manage trust on Docker images
  volume      Manage volumes

Commands:
  commit      Create a new image from a container's changes
  diff        Inspect changes to files or directories on a container's filesystem
  export      Export a container's filesystem as a tar archive
  history     Show the history of an image
  import      Import the contents from a tarball to create a filesystem image
  inspect     Return low-level information on Docker objects
  load        Load an image from a tar archive or STDIN
  logs        Fetch the logs of a container
  restart     Restart one or more containers
  rm          Remove one or more containers
  rmi         Remove one or more images
  save        Save one or more images to a tar archive (streamed to STDOUT by default)
  start       Start one or more stopped containers
  stop        Stop one or more running containers
  tag         Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
  top         Display the running processes of a container

Run 'docker COMMAND --help' for more information on a command.
";

pub const IMAGE_USAGE: &str = "
Usage:  docker image COMMAND

Manage images

Commands:
  build       Build an image from a Dockerfile
  history     Show the history of an image
  import      Import the contents from a tarball to create a filesystem image
  inspect     Display detailed information on one or more images
  load        Load an image from a tar archive or STDIN
  ls          List images
  prune       Remove unused images
  pull        Download an image from a registry
  push        Upload an image to a registry
  rm          Remove one or more images
  save        Save one or more images to a tar archive (streamed to STDOUT by default)
  tag         Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE

Run 'docker image COMMAND --help' for more information on a command.
";

pub const SYSTEM_USAGE: &str = "
Usage:  docker system COMMAND

Manage Docker

Commands:
  df          Show docker disk usage
  prune       Remove unused data

Run 'docker system COMMAND --help' for more information on a command.
";

pub const CONTAINER_USAGE: &str = "
Usage:  docker container COMMAND

Manage containers

Commands:
  commit      Create a new image from a container's changes
  diff        Inspect changes to files or directories on a container's filesystem
  exec        Execute a command in a running container
  export      Export a container's filesystem as a tar archive
  inspect     Display detailed information on one or more containers
  logs        Fetch the logs of a container
  ls          List containers
  prune       Remove all stopped containers
  restart     Restart one or more containers
  rm          Remove one or more containers
  run         Create and run a new container from an image
  start       Start one or more stopped containers
  stop        Stop one or more running containers
  top         Display the running processes of a container

Run 'docker container COMMAND --help' for more information on a command.
";

pub const BUILDER_USAGE: &str = "
Usage:  docker builder COMMAND

Manage builds

Commands:
  build       Build an image from a Dockerfile
  prune       Remove build cache

Run 'docker builder COMMAND --help' for more information on a command.
";

/// `imagelab` as started from a shell.
#[derive(Parser, Debug)]
#[command(
    name = "imagelab",
    version,
    about = "Offline practice lab for Docker image creation, management and registries"
)]
pub struct Cli {
    /// State directory (default: $IMAGELAB_HOME, else the platform data directory)
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Run one REPL line non-interactively; the exit status is that line's
    #[arg(short = 'c', value_name = "LINE")]
    pub command: Option<String>,
    #[command(subcommand)]
    pub line: Option<Line>,
}

/// One REPL line (or the subcommand part of argv).
#[derive(Subcommand, Debug)]
// One value per typed line, moved once: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Line {
    /// The docker CLI, simulated
    #[command(disable_version_flag = true, override_help = DOCKER_USAGE)]
    Docker(DockerLine),
    /// Run the lines of FILE in order (a learner transcript)
    Run { file: PathBuf },
    /// List, show or validate exercises
    Exercises {
        #[command(subcommand)]
        cmd: Option<ExercisesCmd>,
    },
    /// Start an exercise: fresh workspace and image store
    Start { id: String },
    /// Grade the active exercise
    Check {
        #[arg(long)]
        json: bool,
    },
    /// Reveal the next hint of the active exercise
    Hint,
    /// Completion and best score per exercise
    Progress,
    /// The lab's registry over HTTP (distribution's API)
    Registry {
        #[command(subcommand)]
        cmd: RegistryCmd,
    },
    /// Grade a transcript in a fresh sandbox (for classrooms)
    Grade {
        #[arg(long)]
        exercise: String,
        #[arg(long)]
        script: PathBuf,
        #[arg(long)]
        json: bool,
    },
    // REPL file builtins, confined to the workspace.
    /// List files
    Ls { paths: Vec<String> },
    /// Print files
    Cat { paths: Vec<String> },
    /// Change directory inside the workspace
    Cd { path: Option<String> },
    /// Print the working directory
    Pwd,
    /// Make directories
    Mkdir {
        #[arg(short)]
        p: bool,
        paths: Vec<String>,
    },
    /// Remove files
    Rm {
        #[arg(short, short_alias = 'R')]
        r: bool,
        #[arg(short)]
        f: bool,
        paths: Vec<String>,
    },
    /// Copy a file
    Cp {
        #[arg(short, short_alias = 'R')]
        r: bool,
        from: String,
        to: String,
    },
    /// Move a file
    Mv { from: String, to: String },
    /// Print text, or write it with `> file` / `>> file`
    #[command(disable_help_flag = true)]
    Echo {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
    /// Open a file of the workspace in $EDITOR
    Edit { path: String },
    /// Leave the REPL
    Exit,
}

#[derive(Subcommand, Debug)]
pub enum ExercisesCmd {
    /// List the exercises
    List,
    /// Show an exercise's prompt
    Show { id: String },
    /// Prove exercises are gradable: schema, reference solution, blank attempt
    Validate { dir: Option<PathBuf> },
}

#[derive(Subcommand, Debug)]
pub enum RegistryCmd {
    /// Serve <home>/registry over HTTP until killed
    Serve {
        /// Address to listen on (loopback unless told otherwise)
        #[arg(long, default_value = "127.0.0.1:5000")]
        addr: String,
        /// Allow deleting blobs and manifests (REGISTRY_STORAGE_DELETE_ENABLED)
        #[arg(long)]
        delete_enabled: bool,
    },
}

/// `docker ...`: the global docker flags, then the verb.
#[derive(Args, Debug)]
pub struct DockerLine {
    #[command(subcommand)]
    pub cmd: Option<Docker>,
    /// Print version information
    #[arg(long, short = 'v')]
    pub version: bool,
}

#[derive(Subcommand, Debug)]
#[command(disable_help_subcommand = true)]
pub enum Docker {
    /// Build an image from a Dockerfile
    #[command(help_template = DOCKER_HELP, override_usage = "docker buildx build [OPTIONS] PATH | URL | -")]
    Build(BuildArgs),
    /// List images
    #[command(
        help_template = DOCKER_HELP,
        override_usage = "docker images [OPTIONS] [REPOSITORY[:TAG]]"
    )]
    Images(ImagesArgs),
    /// Download an image from a registry
    #[command(help_template = DOCKER_HELP, override_usage = "docker pull [OPTIONS] NAME[:TAG|@DIGEST]")]
    Pull(PullArgs),
    /// Upload an image to a registry
    #[command(help_template = DOCKER_HELP, override_usage = "docker push [OPTIONS] NAME[:TAG]")]
    Push(PushArgs),
    /// Authenticate to a registry
    #[command(help_template = DOCKER_HELP, override_usage = "docker login [OPTIONS] [SERVER]")]
    Login(LoginArgs),
    /// Log out from a registry
    #[command(help_template = DOCKER_HELP, override_usage = "docker logout [SERVER]")]
    Logout(Positional),
    /// Search Docker Hub for images
    #[command(help_template = DOCKER_HELP, override_usage = "docker search [OPTIONS] TERM")]
    Search(SearchArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    #[command(help_template = DOCKER_HELP, override_usage = "docker tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]")]
    Tag(Positional),
    /// Remove one or more images
    #[command(help_template = DOCKER_HELP, override_usage = "docker rmi [OPTIONS] IMAGE [IMAGE...]")]
    Rmi(RmiArgs),
    /// Show the history of an image
    #[command(help_template = DOCKER_HELP, override_usage = "docker history [OPTIONS] IMAGE")]
    History(HistoryArgs),
    /// Return low-level information on Docker objects
    #[command(help_template = DOCKER_HELP, override_usage = "docker inspect [OPTIONS] NAME|ID [NAME|ID...]")]
    Inspect(InspectArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    #[command(help_template = DOCKER_HELP, override_usage = "docker save [OPTIONS] IMAGE [IMAGE...]")]
    Save(SaveArgs),
    /// Load an image from a tar archive or STDIN
    #[command(help_template = DOCKER_HELP, override_usage = "docker load [OPTIONS]")]
    Load(LoadArgs),
    /// Show the Docker version information
    #[command(help_template = DOCKER_HELP, override_usage = "docker version [OPTIONS]")]
    Version(VersionArgs),
    /// Manage images
    #[command(override_help = IMAGE_USAGE)]
    Image {
        #[command(subcommand)]
        cmd: Option<ImageCmd>,
    },
    /// Manage builds
    #[command(override_help = BUILDER_USAGE)]
    Builder {
        #[command(subcommand)]
        cmd: Option<BuilderCmd>,
    },
    /// Create and run a new container from an image
    #[command(help_template = DOCKER_HELP, override_usage = "docker run [OPTIONS] IMAGE [COMMAND] [ARG...]")]
    Run(RunArgs),
    /// List containers
    #[command(help_template = DOCKER_HELP, override_usage = "docker ps [OPTIONS]")]
    Ps(PsArgs),
    /// Fetch the logs of a container
    #[command(help_template = DOCKER_HELP, override_usage = "docker logs [OPTIONS] CONTAINER")]
    Logs(LogsArgs),
    /// Stop one or more running containers
    #[command(help_template = DOCKER_HELP, override_usage = "docker stop [OPTIONS] CONTAINER [CONTAINER...]")]
    Stop(StopArgs),
    /// Start one or more stopped containers
    #[command(help_template = DOCKER_HELP, override_usage = "docker start [OPTIONS] CONTAINER [CONTAINER...]")]
    Start(StartArgs),
    /// Restart one or more containers
    #[command(help_template = DOCKER_HELP, override_usage = "docker restart [OPTIONS] CONTAINER [CONTAINER...]")]
    Restart(StopArgs),
    /// Remove one or more containers
    #[command(help_template = DOCKER_HELP, override_usage = "docker rm [OPTIONS] CONTAINER [CONTAINER...]")]
    Rm(RmArgs),
    /// Execute a command in a running container
    #[command(help_template = DOCKER_HELP, override_usage = "docker exec [OPTIONS] CONTAINER COMMAND [ARG...]")]
    Exec(ExecArgs),
    /// Display the running processes of a container
    #[command(help_template = DOCKER_HELP, override_usage = "docker top CONTAINER [ps OPTIONS]")]
    Top(TopArgs),
    /// Inspect changes to files or directories on a container's filesystem
    #[command(help_template = DOCKER_HELP, override_usage = "docker diff CONTAINER")]
    Diff(Positional),
    /// Export a container's filesystem as a tar archive
    #[command(help_template = DOCKER_HELP, override_usage = "docker export [OPTIONS] CONTAINER")]
    Export(ExportArgs),
    /// Create a new image from a container's changes
    #[command(help_template = DOCKER_HELP, override_usage = "docker commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]")]
    Commit(CommitArgs),
    /// Import the contents from a tarball to create a filesystem image
    #[command(help_template = DOCKER_HELP, override_usage = "docker import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]")]
    Import(ImportArgs),
    /// Docker Buildx
    #[command(override_help = BUILDX_USAGE)]
    Buildx {
        #[command(subcommand)]
        cmd: Option<BuildxCmd>,
    },
    /// Manage Docker image manifests and manifest lists
    #[command(override_help = MANIFEST_USAGE)]
    Manifest {
        #[command(subcommand)]
        cmd: Option<ManifestCmd>,
    },
    /// Manage trust on Docker images
    #[command(override_help = TRUST_USAGE)]
    Trust {
        #[command(subcommand)]
        cmd: Option<TrustCmd>,
    },
    /// Manage containers
    #[command(override_help = CONTAINER_USAGE)]
    Container {
        #[command(subcommand)]
        cmd: Option<ContainerCmd>,
    },
    /// Manage volumes
    #[command(override_help = VOLUME_USAGE)]
    Volume {
        #[command(subcommand)]
        cmd: Option<VolumeCmd>,
    },
    /// Manage Docker
    #[command(override_help = SYSTEM_USAGE)]
    System {
        #[command(subcommand)]
        cmd: Option<SystemCmd>,
    },
}

#[derive(Subcommand, Debug)]
#[command(disable_help_subcommand = true)]
pub enum SystemCmd {
    /// Show docker disk usage
    #[command(help_template = DOCKER_HELP, override_usage = "docker system df [OPTIONS]")]
    Df(SystemDfArgs),
    /// Remove unused data
    #[command(help_template = DOCKER_HELP, override_usage = "docker system prune [OPTIONS]")]
    Prune(SystemPruneArgs),
}

#[derive(Args, Debug, Clone)]
pub struct SystemDfArgs {
    /// Show detailed information on space usage
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct SystemPruneArgs {
    /// Remove all unused images not just dangling ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Prune anonymous volumes
    #[arg(long)]
    pub volumes: bool,
    /// Provide filter values (e.g. "label=<key>=<value>")
    #[arg(long = "filter", value_name = "filter")]
    pub filters: Vec<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ImagePruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "filter")]
    pub filters: Vec<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

pub const VOLUME_USAGE: &str = "
Usage:  docker volume COMMAND

Manage volumes

Commands:
  create      Create a volume
  ls          List volumes
  rm          Remove one or more volumes

Run 'docker volume COMMAND --help' for more information on a command.
";

#[derive(Subcommand, Debug)]
#[command(disable_help_subcommand = true)]
pub enum VolumeCmd {
    /// Create a volume
    #[command(help_template = DOCKER_HELP, override_usage = "docker volume create [OPTIONS] [VOLUME]")]
    Create(Positional),
    /// List volumes
    #[command(visible_alias = "list", help_template = DOCKER_HELP, override_usage = "docker volume ls [OPTIONS]")]
    Ls(VolumeLsArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove", help_template = DOCKER_HELP, override_usage = "docker volume rm [OPTIONS] VOLUME [VOLUME...]")]
    Rm(RmArgs),
}

#[derive(Args, Debug, Clone)]
pub struct VolumeLsArgs {
    /// Only display volume names
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
}

#[derive(Subcommand, Debug)]
#[command(disable_help_subcommand = true)]
#[allow(clippy::large_enum_variant)] // one per typed line, as `Line`
pub enum ContainerCmd {
    /// Create and run a new container from an image
    #[command(help_template = DOCKER_HELP, override_usage = "docker container run [OPTIONS] IMAGE [COMMAND] [ARG...]")]
    Run(RunArgs),
    /// List containers
    #[command(visible_aliases = ["ps", "list"], help_template = DOCKER_HELP, override_usage = "docker container ls [OPTIONS]")]
    Ls(PsArgs),
    /// Fetch the logs of a container
    #[command(help_template = DOCKER_HELP, override_usage = "docker container logs [OPTIONS] CONTAINER")]
    Logs(LogsArgs),
    /// Stop one or more running containers
    #[command(help_template = DOCKER_HELP, override_usage = "docker container stop [OPTIONS] CONTAINER [CONTAINER...]")]
    Stop(StopArgs),
    /// Start one or more stopped containers
    #[command(help_template = DOCKER_HELP, override_usage = "docker container start [OPTIONS] CONTAINER [CONTAINER...]")]
    Start(StartArgs),
    /// Restart one or more containers
    #[command(help_template = DOCKER_HELP, override_usage = "docker container restart [OPTIONS] CONTAINER [CONTAINER...]")]
    Restart(StopArgs),
    /// Remove one or more containers
    #[command(visible_alias = "remove", help_template = DOCKER_HELP, override_usage = "docker container rm [OPTIONS] CONTAINER [CONTAINER...]")]
    Rm(RmArgs),
    /// Execute a command in a running container
    #[command(help_template = DOCKER_HELP, override_usage = "docker container exec [OPTIONS] CONTAINER COMMAND [ARG...]")]
    Exec(ExecArgs),
    /// Display the running processes of a container
    #[command(help_template = DOCKER_HELP, override_usage = "docker container top CONTAINER [ps OPTIONS]")]
    Top(TopArgs),
    /// Display detailed information on one or more containers
    #[command(help_template = DOCKER_HELP, override_usage = "docker container inspect [OPTIONS] CONTAINER [CONTAINER...]")]
    Inspect(ContainerInspectArgs),
    /// Remove all stopped containers
    #[command(help_template = DOCKER_HELP, override_usage = "docker container prune [OPTIONS]")]
    Prune(PruneArgs),
    /// Inspect changes to files or directories on a container's filesystem
    #[command(help_template = DOCKER_HELP, override_usage = "docker container diff CONTAINER")]
    Diff(Positional),
    /// Export a container's filesystem as a tar archive
    #[command(help_template = DOCKER_HELP, override_usage = "docker container export [OPTIONS] CONTAINER")]
    Export(ExportArgs),
    /// Create a new image from a container's changes
    #[command(help_template = DOCKER_HELP, override_usage = "docker container commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]")]
    Commit(CommitArgs),
}

#[derive(Args, Debug, Clone)]
pub struct CommitArgs {
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short = 'a', long, value_name = "string")]
    pub author: Option<String>,
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change", value_name = "list")]
    pub changes: Vec<String>,
    /// Commit message
    #[arg(short = 'm', long, value_name = "string")]
    pub message: Option<String>,
    /// Pause container during commit (default true)
    #[arg(short = 'p', long, num_args = 0..=1, default_missing_value = "true", value_name = "bool")]
    pub pause: Option<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ImportArgs {
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change", value_name = "list")]
    pub changes: Vec<String>,
    /// Set commit message for imported image
    #[arg(short = 'm', long, value_name = "string")]
    pub message: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(long, value_name = "string")]
    pub platform: Option<String>,
    #[arg(hide = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long, value_name = "string")]
    pub output: Option<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Automatically remove the container and its associated anonymous volumes when it exits
    #[arg(long)]
    pub rm: bool,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Assign a name to the container
    #[arg(long, value_name = "string")]
    pub name: Option<String>,
    /// Publish a container's port(s) to the host
    #[arg(short = 'p', long = "publish", value_name = "list")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "list")]
    pub env_file: Vec<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long, value_name = "string")]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long, value_name = "string")]
    pub workdir: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long, value_name = "string")]
    pub entrypoint: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(long, value_name = "string")]
    pub platform: Option<String>,
    /// Skip image verification
    #[arg(long, value_name = "bool", num_args = 0..=1, default_missing_value = "true", require_equals = true, action = clap::ArgAction::Set)]
    pub disable_content_trust: Option<bool>,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume", value_name = "list")]
    pub volume: Vec<String>,
    /// Attach a filesystem mount to the container
    #[arg(long = "mount", value_name = "mount")]
    pub mount: Vec<String>,
    /// Connect a container to a network
    #[arg(long, value_name = "network")]
    pub network: Option<String>,
    /// Restart policy to apply when a container exits
    #[arg(long, value_name = "string")]
    pub restart: Option<String>,
    /// IMAGE [COMMAND] [ARG...]
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only display container IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filters: Vec<String>,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last", value_name = "int")]
    pub last: Option<usize>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs
    #[arg(short = 'n', long, value_name = "string")]
    pub tail: Option<String>,
    /// Show timestamps
    #[arg(short = 't', long)]
    pub timestamps: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct StopArgs {
    /// Signal to send to the container
    #[arg(short = 's', long, value_name = "string")]
    pub signal: Option<String>,
    /// Seconds to wait before killing the container
    #[arg(short = 't', long = "time", value_name = "int")]
    pub time: Option<i64>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short = 'a', long)]
    pub attach: bool,
    /// Attach container's STDIN
    #[arg(short = 'i', long)]
    pub interactive: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long)]
    pub volumes: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short = 'u', long, value_name = "string")]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long, value_name = "string")]
    pub workdir: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list")]
    pub env: Vec<String>,
    /// CONTAINER COMMAND [ARG...]
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct TopArgs {
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "filter")]
    pub filters: Vec<String>,
}

#[derive(Subcommand, Debug)]
#[command(disable_help_subcommand = true)]
#[allow(clippy::large_enum_variant)] // one per typed line, as `Line`
pub enum BuilderCmd {
    /// Build an image from a Dockerfile
    #[command(help_template = DOCKER_HELP, override_usage = "docker builder build [OPTIONS] PATH | URL | -")]
    Build(BuildArgs),
    /// Remove build cache
    #[command(help_template = DOCKER_HELP, override_usage = "docker builder prune")]
    Prune(BuilderPruneArgs),
}

#[derive(Args, Debug, Clone)]
pub struct BuilderPruneArgs {
    /// Remove all unused build cache, not just dangling ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Subcommand, Debug)]
#[command(disable_help_subcommand = true)]
#[allow(clippy::large_enum_variant)]
pub enum ImageCmd {
    /// Build an image from a Dockerfile
    #[command(help_template = DOCKER_HELP, override_usage = "docker image build [OPTIONS] PATH | URL | -")]
    Build(BuildArgs),
    /// List images
    #[command(
        visible_alias = "list",
        override_usage = "docker image ls [OPTIONS] [REPOSITORY[:TAG]]"
    )]
    Ls(ImagesArgs),
    /// Download an image from a registry
    #[command(help_template = DOCKER_HELP, override_usage = "docker image pull [OPTIONS] NAME[:TAG|@DIGEST]")]
    Pull(PullArgs),
    /// Upload an image to a registry
    #[command(help_template = DOCKER_HELP, override_usage = "docker image push [OPTIONS] NAME[:TAG]")]
    Push(PushArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    #[command(help_template = DOCKER_HELP, override_usage = "docker image tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]")]
    Tag(Positional),
    /// Remove one or more images
    #[command(
        visible_alias = "remove",
        override_usage = "docker image rm [OPTIONS] IMAGE [IMAGE...]"
    )]
    Rm(RmiArgs),
    /// Show the history of an image
    #[command(help_template = DOCKER_HELP, override_usage = "docker image history [OPTIONS] IMAGE")]
    History(HistoryArgs),
    /// Display detailed information on one or more images
    #[command(help_template = DOCKER_HELP, override_usage = "docker image inspect [OPTIONS] IMAGE [IMAGE...]")]
    Inspect(ImageInspectArgs),
    /// Remove unused images
    #[command(help_template = DOCKER_HELP, override_usage = "docker image prune [OPTIONS]")]
    Prune(ImagePruneArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    #[command(help_template = DOCKER_HELP, override_usage = "docker image save [OPTIONS] IMAGE [IMAGE...]")]
    Save(SaveArgs),
    /// Import the contents from a tarball to create a filesystem image
    #[command(help_template = DOCKER_HELP, override_usage = "docker image import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]")]
    Import(ImportArgs),
    /// Load an image from a tar archive or STDIN
    #[command(help_template = DOCKER_HELP, override_usage = "docker image load [OPTIONS]")]
    Load(LoadArgs),
}

#[derive(Args, Debug, Clone)]
pub struct Positional {
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct BuildArgs {
    /// Name and optionally a tag (format: "name:tag")
    #[arg(short = 't', long = "tag", value_name = "stringArray")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (default: "PATH/Dockerfile")
    #[arg(short = 'f', long = "file", value_name = "string")]
    pub file: Option<String>,
    /// Set build-time variables
    #[arg(long = "build-arg", value_name = "stringArray")]
    pub build_args: Vec<String>,
    /// Set metadata for an image
    #[arg(long = "label", value_name = "stringArray")]
    pub labels: Vec<String>,
    /// Set the target build stage to build
    #[arg(long, value_name = "string")]
    pub target: Option<String>,
    /// Do not use cache when building the image
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    /// Set type of progress output ("auto", "quiet", "plain", "tty", "rawjson")
    #[arg(long, value_name = "string", default_value = "auto")]
    pub progress: String,
    /// Suppress the build output and print image ID on success
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Set target platform for build
    #[arg(long, value_name = "stringArray")]
    pub platform: Vec<String>,
    /// Always attempt to pull all referenced images
    #[arg(long)]
    pub pull: bool,
    /// Write the image ID to a file
    #[arg(long, value_name = "string")]
    pub iidfile: Option<String>,
    /// Output destination (format: "type=local,dest=path")
    #[arg(short = 'o', long = "output", value_name = "stringArray")]
    pub output: Vec<String>,
    /// Squash newly built layers into a single new layer
    #[arg(long, hide = true)]
    pub squash: bool,
    /// Secret to expose to the build (format: "id=mysecret[,src=/local/secret]")
    #[arg(long = "secret", value_name = "stringArray")]
    pub secret: Vec<String>,
    /// Shorthand for "--output=type=registry"
    #[arg(long)]
    pub push: bool,
    /// Shorthand for "--output=type=docker"
    #[arg(long)]
    pub load: bool,
    /// Override the configured builder instance
    #[arg(long, value_name = "string")]
    pub builder: Option<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only show image IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filters: Vec<String>,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// List multi-platform images as a tree
    #[arg(long)]
    pub tree: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct PushArgs {
    /// Push all tags of an image to the repository
    #[arg(short = 'a', long = "all-tags")]
    pub all_tags: bool,
    /// Suppress verbose output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Skip image signing
    #[arg(long, value_name = "bool", num_args = 0..=1, default_missing_value = "true", require_equals = true, action = clap::ArgAction::Set)]
    pub disable_content_trust: Option<bool>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct SearchArgs {
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Pretty-print search using a Go template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// Max number of search results
    #[arg(long, value_name = "int")]
    pub limit: Option<i64>,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct LoginArgs {
    /// Password
    #[arg(short = 'p', long, value_name = "string")]
    pub password: Option<String>,
    /// Take the password from stdin
    #[arg(long)]
    pub password_stdin: bool,
    /// Username
    #[arg(short = 'u', long, value_name = "string")]
    pub username: Option<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct PullArgs {
    /// Download all tagged images in the repository
    #[arg(short = 'a', long = "all-tags")]
    pub all_tags: bool,
    /// Skip image verification
    #[arg(long, value_name = "bool", num_args = 0..=1, default_missing_value = "true", require_equals = true, action = clap::ArgAction::Set)]
    pub disable_content_trust: Option<bool>,
    /// Set platform if server is multi-platform capable
    #[arg(long, value_name = "string")]
    pub platform: Option<String>,
    /// Suppress verbose output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long, value_name = "string")]
    pub output: Option<String>,
    /// Save only the given platform(s). Formatted as a comma-separated list of "os[/arch[/variant]]" (e.g., "linux/amd64,linux/arm64/v8")
    #[arg(long, value_name = "stringSlice")]
    pub platform: Vec<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short = 'i', long, value_name = "string")]
    pub input: Option<String>,
    /// Suppress the load output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Load only the given platform(s). Formatted as a comma-separated list of "os[/arch[/variant]]" (e.g., "linux/amd64,linux/arm64/v8")
    #[arg(long, value_name = "stringSlice")]
    pub platform: Vec<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RmiArgs {
    /// Force removal of the image
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Do not delete untagged parents
    #[arg(long = "no-prune")]
    pub no_prune: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct HistoryArgs {
    /// Print sizes and dates in human readable format
    #[arg(short = 'H', long, default_value = "true", action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub human: String,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,
    /// Display total file sizes if the type is container
    #[arg(short = 's', long)]
    pub size: bool,
    /// Return JSON for specified type
    #[arg(long = "type", value_name = "string")]
    pub kind: Option<String>,
    /// `docker image inspect --platform`; not a flag of `docker inspect`.
    #[arg(skip)]
    pub platform: Option<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

/// `docker image inspect`'s flags (docker/cli v28: no `--type`, no `-s`).
#[derive(Args, Debug, Clone)]
pub struct ImageInspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,
    /// Inspect a specific platform of the multi-platform image
    #[arg(long, value_name = "string")]
    pub platform: Option<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

/// `docker container inspect`'s flags.
#[derive(Args, Debug, Clone)]
pub struct ContainerInspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,
    /// Display total file sizes
    #[arg(short = 's', long)]
    pub size: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

pub const BUILDX_USAGE: &str = "
Usage:  docker buildx [OPTIONS] COMMAND

Extended build capabilities with BuildKit

Options:
      --builder string   Override the configured builder instance

Management Commands:
  imagetools  Commands to work on images in registry

Commands:
  build       Start a build
  create      Create a new builder instance
  inspect     Inspect current builder instance
  ls          List builder instances
  rm          Remove one or more builder instances
  use         Set the current builder instance

Run 'docker buildx COMMAND --help' for more information on a command.
";

pub const MANIFEST_USAGE: &str = "
Usage:  docker manifest COMMAND

The **docker manifest** command has subcommands for managing image manifests and
manifest lists. A manifest list allows you to use one name to refer to the same image
built for multiple architectures.

To see help for a subcommand, use:

    docker manifest CMD --help

For full details on using docker manifest lists, see the registry v2 specification.

Commands:
  annotate    Add additional information to a local image manifest
  create      Create a local manifest list for annotating and pushing to a registry
  inspect     Display an image manifest, or manifest list
  push        Push a manifest list to a repository
  rm          Delete one or more manifest lists from local storage

Run 'docker manifest COMMAND --help' for more information on a command.
";

#[derive(Subcommand, Debug)]
#[command(disable_help_subcommand = true)]
#[allow(clippy::large_enum_variant)]
pub enum BuildxCmd {
    /// Start a build
    #[command(visible_alias = "b", help_template = DOCKER_HELP, override_usage = "docker buildx build [OPTIONS] PATH | URL | -")]
    Build(BuildArgs),
    /// Create a new builder instance
    #[command(help_template = DOCKER_HELP, override_usage = "docker buildx create [OPTIONS] [CONTEXT|ENDPOINT]")]
    Create(BuildxCreateArgs),
    /// List builder instances
    #[command(help_template = DOCKER_HELP, override_usage = "docker buildx ls")]
    Ls(Positional),
    /// Set the current builder instance
    #[command(help_template = DOCKER_HELP, override_usage = "docker buildx use [OPTIONS] NAME")]
    Use(Positional),
    /// Inspect current builder instance
    #[command(help_template = DOCKER_HELP, override_usage = "docker buildx inspect [NAME]")]
    Inspect(BuildxInspectArgs),
    /// Remove one or more builder instances
    #[command(help_template = DOCKER_HELP, override_usage = "docker buildx rm [OPTIONS] [NAME] [NAME...]")]
    Rm(Positional),
    /// Commands to work on images in registry
    Imagetools {
        #[command(subcommand)]
        cmd: Option<ImagetoolsCmd>,
    },
}

#[derive(Args, Debug, Clone)]
pub struct BuildxCreateArgs {
    /// Builder instance name
    #[arg(long, value_name = "string")]
    pub name: Option<String>,
    /// Driver to use (available: "docker-container", "kubernetes", "remote")
    #[arg(long, value_name = "string")]
    pub driver: Option<String>,
    /// Set the current builder instance
    #[arg(long = "use")]
    pub use_it: bool,
    /// Boot builder after creation
    #[arg(long)]
    pub bootstrap: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct BuildxInspectArgs {
    /// Ensure builder has booted before inspecting
    #[arg(long)]
    pub bootstrap: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Subcommand, Debug)]
#[command(disable_help_subcommand = true)]
pub enum ImagetoolsCmd {
    /// Show details of an image in the registry
    #[command(help_template = DOCKER_HELP, override_usage = "docker buildx imagetools inspect [OPTIONS] NAME")]
    Inspect(ImagetoolsInspectArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ImagetoolsInspectArgs {
    /// Show original, unformatted JSON manifest
    #[arg(long)]
    pub raw: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Subcommand, Debug)]
#[command(disable_help_subcommand = true)]
pub enum ManifestCmd {
    /// Display an image manifest, or manifest list
    #[command(help_template = DOCKER_HELP, override_usage = "docker manifest inspect [OPTIONS] [MANIFEST_LIST] MANIFEST")]
    Inspect(ManifestInspectArgs),
    /// Create a local manifest list for annotating and pushing to a registry
    #[command(help_template = DOCKER_HELP, override_usage = "docker manifest create MANIFEST_LIST MANIFEST [MANIFEST...]")]
    Create(ManifestCreateArgs),
    /// Add additional information to a local image manifest
    #[command(help_template = DOCKER_HELP, override_usage = "docker manifest annotate [OPTIONS] MANIFEST_LIST MANIFEST")]
    Annotate(ManifestAnnotateArgs),
    /// Push a manifest list to a repository
    #[command(help_template = DOCKER_HELP, override_usage = "docker manifest push [OPTIONS] MANIFEST_LIST")]
    Push(ManifestPushArgs),
    /// Delete one or more manifest lists from local storage
    #[command(help_template = DOCKER_HELP, override_usage = "docker manifest rm MANIFEST_LIST [MANIFEST_LIST...]")]
    Rm(Positional),
}

#[derive(Args, Debug, Clone)]
pub struct ManifestCreateArgs {
    /// Amend an existing manifest list
    #[arg(short = 'a', long)]
    pub amend: bool,
    /// Allow communication with an insecure registry
    #[arg(long)]
    pub insecure: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ManifestAnnotateArgs {
    /// Set architecture
    #[arg(long, value_name = "string")]
    pub arch: Option<String>,
    /// Set operating system
    #[arg(long, value_name = "string")]
    pub os: Option<String>,
    /// Set architecture variant
    #[arg(long, value_name = "string")]
    pub variant: Option<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ManifestPushArgs {
    /// Remove the local manifest list after push
    #[arg(short = 'p', long)]
    pub purge: bool,
    /// Allow push to an insecure registry
    #[arg(long)]
    pub insecure: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ManifestInspectArgs {
    /// Allow communication with an insecure registry
    #[arg(long)]
    pub insecure: bool,
    /// Output additional info including layers and platform
    #[arg(short = 'v', long)]
    pub verbose: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

pub const TRUST_USAGE: &str = "
Usage:  docker trust COMMAND

Manage trust on Docker images

Management Commands:
  key         Manage keys for signing Docker images
  signer      Manage entities who can sign Docker images

Commands:
  inspect     Return low-level information about keys and signatures
  revoke      Remove trust for an image
  sign        Sign an image

Run 'docker trust COMMAND --help' for more information on a command.
";

pub const TRUST_KEY_USAGE: &str = "
Usage:  docker trust key COMMAND

Manage keys for signing Docker images

Commands:
  generate    Generate and load a signing key-pair
  load        Load a private key file for signing

Run 'docker trust key COMMAND --help' for more information on a command.
";

pub const TRUST_SIGNER_USAGE: &str = "
Usage:  docker trust signer COMMAND

Manage entities who can sign Docker images

Commands:
  add         Add a signer
  remove      Remove a signer

Run 'docker trust signer COMMAND --help' for more information on a command.
";

#[derive(Subcommand, Debug)]
#[command(disable_help_subcommand = true)]
pub enum TrustCmd {
    /// Manage keys for signing Docker images
    #[command(override_help = TRUST_KEY_USAGE)]
    Key {
        #[command(subcommand)]
        cmd: Option<TrustKeyCmd>,
    },
    /// Manage entities who can sign Docker images
    #[command(override_help = TRUST_SIGNER_USAGE)]
    Signer {
        #[command(subcommand)]
        cmd: Option<TrustSignerCmd>,
    },
    /// Return low-level information about keys and signatures
    #[command(help_template = DOCKER_HELP, override_usage = "docker trust inspect IMAGE[:TAG] [IMAGE[:TAG]...]")]
    Inspect(TrustInspectArgs),
    /// Remove trust for an image
    #[command(help_template = DOCKER_HELP, override_usage = "docker trust revoke [OPTIONS] IMAGE[:TAG]")]
    Revoke(TrustRevokeArgs),
    /// Sign an image
    #[command(help_template = DOCKER_HELP, override_usage = "docker trust sign IMAGE:TAG")]
    Sign(TrustSignArgs),
}

#[derive(Subcommand, Debug)]
#[command(disable_help_subcommand = true)]
pub enum TrustKeyCmd {
    /// Generate and load a signing key-pair
    #[command(help_template = DOCKER_HELP, override_usage = "docker trust key generate NAME")]
    Generate(TrustKeyGenerateArgs),
    /// Load a private key file for signing
    #[command(help_template = DOCKER_HELP, override_usage = "docker trust key load [OPTIONS] KEYFILE")]
    Load(TrustKeyLoadArgs),
}

#[derive(Subcommand, Debug)]
#[command(disable_help_subcommand = true)]
pub enum TrustSignerCmd {
    /// Add a signer
    #[command(help_template = DOCKER_HELP, override_usage = "docker trust signer add OPTIONS NAME REPOSITORY [REPOSITORY...] ")]
    Add(TrustSignerAddArgs),
    /// Remove a signer
    #[command(help_template = DOCKER_HELP, override_usage = "docker trust signer remove [OPTIONS] NAME REPOSITORY [REPOSITORY...]")]
    Remove(TrustSignerRemoveArgs),
}

#[derive(Args, Debug, Clone)]
pub struct TrustInspectArgs {
    /// Print the information in a human friendly format
    #[arg(long)]
    pub pretty: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct TrustRevokeArgs {
    /// Do not prompt for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct TrustSignArgs {
    /// Sign a locally tagged image
    #[arg(long)]
    pub local: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct TrustKeyGenerateArgs {
    /// Directory to generate key in, defaults to current directory
    #[arg(long, value_name = "string")]
    pub dir: Option<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct TrustKeyLoadArgs {
    /// Name for the loaded key
    #[arg(long, value_name = "string", default_value = "signer")]
    pub name: String,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct TrustSignerAddArgs {
    /// Path to the signer's public key file
    #[arg(long = "key", value_name = "list")]
    pub keys: Vec<String>,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct TrustSignerRemoveArgs {
    /// Do not prompt for confirmation before removing the most recent signer
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(hide = true)]
    pub args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct VersionArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,
}

/// Splits a REPL line into words the way a POSIX shell would (quotes and
/// backslashes), keeping `>` and `>>` as words for the builtins.
pub fn split_line(line: &str) -> Result<Vec<String>, String> {
    shell_words::split(line).map_err(|_| "syntax error: unterminated quoted string".to_string())
}

#[derive(Parser, Debug)]
#[command(
    name = "imagelab",
    no_binary_name = true,
    about = "What the lab understands at its prompt (docker commands start with `docker`)",
    long_about = None
)]
struct ReplLine {
    #[command(subcommand)]
    line: Line,
}

/// Parses one REPL line (already split) into a `Line`.
pub fn parse_line(words: &[String]) -> Result<Line, clap::Error> {
    ReplLine::try_parse_from(words).map(|l| l.line)
}

/// The REPL grammar as a clap command tree (for completion).
pub fn repl_command() -> clap::Command {
    <ReplLine as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammars_are_well_formed() {
        <Cli as clap::CommandFactory>::command().debug_assert();
        repl_command().debug_assert();
    }

    #[test]
    fn home_flag_goes_with_any_subcommand() {
        let cli = Cli::try_parse_from(["imagelab", "--home", "/h", "docker", "images"]).unwrap();
        assert_eq!(cli.home.as_deref(), Some(std::path::Path::new("/h")));
        assert!(matches!(cli.line, Some(Line::Docker(_))));
    }
}
