OPENQASM 3;
qubit[4] q;
qubit[4] r;
cswap q, r, q;
cp(-tau) q[3], r[0];