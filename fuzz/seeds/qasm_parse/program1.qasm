OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg c[3];
u3(pi/2, -pi, 1e-3) q[0];
ccx q[0], q[1], q[2];
barrier q;
measure q -> c;
reset q[1];