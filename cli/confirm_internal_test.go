package cli

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// The answer is one line, read without taking what follows it from a
// stdin the run may read next.
func TestReadAnswerTakesOneLine(t *testing.T) {
	in := strings.NewReader("y\nemail\na@example.com\n")
	got, err := readAnswer(context.Background(), in)
	if got != "y" || err != nil {
		t.Fatalf("readAnswer = %q, %v", got, err)
	}
	rest, _ := io.ReadAll(in)
	if string(rest) != "email\na@example.com\n" {
		t.Fatalf("left %q", rest)
	}
}

// A Ctrl-C while the question waits ends the wait with the signal.
func TestReadAnswerStopsWithTheContext(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	stop := errors.New("stopped by interrupt")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := readAnswer(ctx, pr)
		done <- err
	}()
	cancel(stop)
	if err := <-done; !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the context's cause", err)
	}
}
