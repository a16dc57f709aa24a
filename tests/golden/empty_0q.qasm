OPENQASM 3;
include "stdgates.inc";
qubit[0] q;
bit[0] c;

c = measure q;