package export

import (
	"errors"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/management"
)

// A job that ended failed or expired will never give a file (ErrNoFile),
// and says why; a completed one will.
func TestCompletedSaysNoFile(t *testing.T) {
	for status, want := range map[string]string{
		management.JobFailed:  "export job j failed: disk full",
		management.JobExpired: "export job j ended expired, without a file",
	} {
		err := completed(&management.Job{ID: "j", Status: status, StatusDetails: "disk full"})
		if !errors.Is(err, ErrNoFile) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v", status, err)
		}
	}
	if err := completed(&management.Job{ID: "j", Status: management.JobCompleted}); err != nil {
		t.Errorf("completed: %v", err)
	}
}
