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
