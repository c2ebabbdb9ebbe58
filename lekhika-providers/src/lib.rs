//! lekhika-providers
