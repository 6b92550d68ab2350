// Package doccheck keeps the code in README.md and CONTRIBUTING.md true: its
// test compiles and vets every Go block of both files, runs the complete
// programs against the fake API, and checks that the shell blocks name make
// targets, scripts and paths that exist. It has no code of its own.
package doccheck
