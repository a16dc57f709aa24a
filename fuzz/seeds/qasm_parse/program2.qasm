OPENQASM 3.0;
qubit q;
bit b;
/* block */ sx q; // comment
b = measure q;