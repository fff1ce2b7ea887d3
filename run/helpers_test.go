package run

import (
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/throttle"
)

// testConnect reaches a sandbox at url through the real client, as the cli
// does (rate capped high: the sandbox's own limits decide).
func testConnect(t *testing.T, url string) func() (Tenant, error) {
	return func() (Tenant, error) {
		c, err := management.New(management.Config{
			Domain: strings.TrimPrefix(url, "http://"), ClientID: "cid", ClientSecret: "sec",
			Throttle: throttle.Options{Rate: 1000, MaxRate: 1000, MaxRetries: 5},
		})
		if err != nil {
			t.Errorf("connecting to the sandbox: %v", err)
			return nil, err
		}
		return c, nil
	}
}
