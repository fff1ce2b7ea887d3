package clock

import "time"

// Drive advances f by step whenever the code under test waits on it, until
// done yields, and returns what done yielded: a test's way to run code that
// waits on f to its end without sleeping.
func (f *Fake) Drive(step time.Duration, done <-chan error) error {
	for {
		parked := make(chan struct{})
		go func() { f.BlockUntil(1); close(parked) }()
		select {
		case err := <-done:
			f.After(time.Hour) // release the BlockUntil goroutine
			return err
		case <-parked:
			f.Advance(step)
		}
	}
}

// Simulate runs n goroutines that wait on f as a discrete-event simulation:
// each time all n wait, it moves f to the earliest deadline, until done
// reports true (checked whenever all n wait). It gives up after maxSteps
// advances and reports false.
func (f *Fake) Simulate(n int, done func() bool, maxSteps int) bool {
	for steps := 0; steps <= maxSteps; steps++ {
		f.BlockUntil(n)
		if done() {
			return true
		}
		next, _ := f.NextDeadline()
		f.Advance(next.Sub(f.Now()))
	}
	return false
}
