//! A real `redis-server` on a free loopback port: the workspace's `testkit`, which the session
//! store's conformance suite uses too.

pub use testkit::TestRedis;
