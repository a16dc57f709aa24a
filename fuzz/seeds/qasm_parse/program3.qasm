OPENQASM 3;
cu(1, 2, 3, 4) $0, $1;
rxx(sin(pi / 4) ** 2) $1, $2;
barrier;