package throttle

import "context"

type yieldKey struct{}

// Yielding marks the requests made with ctx as routine (job polls): while
// a request that is not yielding waits for a token of the same bucket, a
// yielding one lets it go first, so that the requests that move a run
// forward (the next chunk's POST when a slot frees) are not queued behind
// reads that can wait a moment. Yielding requests are otherwise paced as
// any other; they never wait on one another.
func Yielding(ctx context.Context) context.Context {
	return context.WithValue(ctx, yieldKey{}, true)
}

func isYielding(ctx context.Context) bool {
	y, _ := ctx.Value(yieldKey{}).(bool)
	return y
}
