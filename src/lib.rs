//! imagelab: an offline practice lab for the Docker Certified Associate domain
//! "Image Creation, Management, and Registry". See `ARCHITECTURE.md` for the map.

pub mod digest;
pub mod layer;
