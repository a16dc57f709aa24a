OPENQASM 3;
include "stdgates.inc";
qubit[3] q;
bit[3] c;

c = measure q;