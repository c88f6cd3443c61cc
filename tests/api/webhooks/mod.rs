mod faults;
mod http;
mod model;
