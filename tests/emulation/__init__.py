"""Emulated QPUs: calibrated devices, transpilation, noise and readout mitigation."""
