// Package termtest runs the real a0bulk binary on a pseudo-terminal, at 40,
// 80 and 120 columns, against an in-process sandbox tenant: the progress
// line must fit the terminal, redraw in place, follow a resize, and a
// Ctrl-C typed there must stop the run as promised. The package has tests
// only.
package termtest
