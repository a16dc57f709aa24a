"""List the devices, then pick the least busy available one with enough qubits."""

from quri_parts_oqtopus.backend import OqtopusDeviceBackend

backend = OqtopusDeviceBackend()
for device in backend.get_devices():
    print(
        f"{device.device_id:>12}  {device.device_type:<9} {device.status:<11} "
        f"{device.n_qubits:>3} qubits  {device.n_pending_jobs} pending"
    )
chosen = backend.least_busy_device(min_qubits=4)
print(f"least busy with 4+ qubits: {chosen.device_id}")
