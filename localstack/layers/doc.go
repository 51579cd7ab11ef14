// Package layers holds the test that keeps the repository's layering: the
// functions and shared packages never reach into the local stack, the
// domain packages stay free of AWS, the stores of the HTTP layer, and no
// built binary is committed.
package layers
