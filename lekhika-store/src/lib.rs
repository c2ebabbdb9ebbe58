//! lekhika-store
