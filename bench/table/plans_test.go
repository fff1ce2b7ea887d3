package main

import (
	"bufio"
	"strings"
	"testing"
)

const plansOut = `BenchmarkPlans/plan=essentials/create_verify_email-2   	       1	  56425088 ns/op	        58.10 429_%	        61.00 429s	        22.00 admitted	        97.78 admitted/allowed_%	        22.50 allowed	         1.000 bucket:other	10 bucket_burst	2.5 bucket_per_s	         0 job_limit_429s	       105.0 requests	         5.000 sim_s	 20 rtt_ms	         1.000 stopped	       240.0 users
--- BENCH: BenchmarkPlans/plan=essentials/create_verify_email-2
    plans_test.go:83: stopped: sending verification email to auth0|5d44: 429 Too Many Requests: Global limit has been reached (too_many_requests)
BenchmarkPlans/plan=essentials/import_job=30s-2        	       1	2745336487 ns/op	        0.5 429_%	        3.000 429s	       504.0 admitted	        73.08 admitted/allowed_%	       689.6 allowed	         1.000 bucket:other	10 bucket_burst	2.5 bucket_per_s	 0 job_limit_429s	        17.00 jobs	         1.000 pollbucket:other	        470.0 polls	 504 pollbucket_admitted	 689.6 pollbucket_allowed	        68.15 polls/bucket_allowed_%	       650.0 requests	       271.9 sim_s	        98.89 slots_busy_%	         0 stopped	     20000 users
PASS`

func TestPlanTables(t *testing.T) {
	r := parse(bufio.NewScanner(strings.NewReader(plansOut)))
	notes := stopNotes([]byte(plansOut))
	if got := notes["BenchmarkPlans/plan=essentials/create_verify_email"]; !strings.HasPrefix(got, "sending verification email to auth0|5d44: 429") {
		t.Fatalf("stop note %q", got)
	}
	out := planTables(r, notes)
	for _, want := range []string{
		"reached in memory with a round trip of 20 ms",
		"#### Plan essentials",
		"| create --verify-email: requests / allowed by the binding bucket | 97.8% of other (22 admitted of 22 = 10 + 2.5/s × its span; 240 users, 5 s) | ≥ 97% | **no** (run stopped) |",
		"| create --verify-email: 429s | 61 of 105 requests (58.10%) | ≤ 1% | **no** |",
		"| create --verify-email: run | **stopped** after 5.0 s: sending verification email to auth0\\|5d44: 429 Too Many Requests",
		"| import, 30 s jobs: both job slots busy | 98.89% of first to last job start (17 jobs) | ≥ 99% | **no** |",
		"| import, 30 s jobs: polls' share of their bucket | 68.2% of other's allowance (470 polls; it admitted 504 of 690) | (reported) | — |",
		"| import, 30 s jobs: 429s | 3 of 650 requests (0.50%) | ≤ 1% | yes |",
		"| import, 30 s jobs: run | completed | not stopped | yes |",
		"| import, 2 s jobs | not measured | | **no** |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
