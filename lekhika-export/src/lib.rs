//! lekhika-export
