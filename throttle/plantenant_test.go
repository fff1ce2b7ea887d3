package throttle

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// simBucket is one bucket of a simulated tenant, as auth0-facts.md
// describes Auth0's: a burst, and a rate per second or per minute added in
// steps (a per-minute limit at every whole second, a per-second one at
// every millisecond), counted in whole units so nothing drifts. phase moves
// the steps off the whole second.
type simBucket struct {
	name  string
	burst int
	step  time.Duration
	phase time.Duration
	unit  int64 // units per token: steps per period
	add   int64 // units per step: the rate per period
	units int64
	at    int64 // index of the last step applied

	ok, limited int
	grants      []time.Time
}

func perSecond(name string, burst, rate int) *simBucket {
	return &simBucket{name: name, burst: burst, step: time.Millisecond, unit: 1000, add: int64(rate)}
}

func perMinute(name string, burst, rate int) *simBucket {
	return &simBucket{name: name, burst: burst, step: time.Second, unit: 60, add: int64(rate)}
}

// perSecondRate is the sustained rate in requests per second.
func (b *simBucket) perSecondRate() float64 {
	return float64(b.add) / float64(b.unit) / b.step.Seconds()
}

func (b *simBucket) start(now time.Time) {
	b.units = int64(b.burst) * b.unit
	b.at = b.index(now)
}

func (b *simBucket) index(t time.Time) int64 {
	return floorDiv(t.UnixNano()-int64(b.phase), int64(b.step))
}

func (b *simBucket) refill(now time.Time) {
	if k := b.index(now); k > b.at {
		b.units = min(int64(b.burst)*b.unit, b.units+(k-b.at)*b.add)
		b.at = k
	}
}

func (b *simBucket) whole() int { return int(b.units / b.unit) }

// reset is x-ratelimit-reset: the epoch second (rounded up) at which the
// next whole token is added.
func (b *simBucket) reset(now time.Time) int64 {
	if b.whole() >= b.burst {
		return ceilUnix(now)
	}
	need := int64(b.whole()+1)*b.unit - b.units
	n := (need + b.add - 1) / b.add
	return ceilUnix(time.Unix(0, (b.at+n)*int64(b.step)+int64(b.phase)))
}

// planTenant answers every request from the buckets route names for it,
// the global one first: a request takes a token from each, or, if one has
// none, gets 429 with that bucket's headers and takes nothing. A granted
// answer carries the headers of its emptiest bucket.
type planTenant struct {
	clk     *clock.Fake
	route   func(method, path string) []*simBucket
	all     []*simBucket
	latency time.Duration
	jitter  time.Duration // added in a fixed cycle of five steps

	mu      sync.Mutex
	n       int
	ok      int
	limited int
}

func newPlanTenant(clk *clock.Fake, route func(method, path string) []*simBucket, all ...*simBucket) *planTenant {
	for _, b := range all {
		b.start(clk.Now())
	}
	return &planTenant{clk: clk, route: route, all: all, latency: 20 * time.Millisecond}
}

func (p *planTenant) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	p.mu.Lock()
	now := p.clk.Now()
	bs := p.route(req.Method, req.URL.Path)
	var refused, shown *simBucket
	for _, b := range bs {
		b.refill(now)
		if refused == nil && b.whole() < 1 {
			refused = b
		}
	}
	status, body := http.StatusOK, `{}`
	if refused != nil {
		shown = refused
		refused.limited++
		p.limited++
		status = http.StatusTooManyRequests
		body = `{"statusCode":429,"error":"Too Many Requests","message":"` + refused.name + ` limit has been reached","errorCode":"too_many_requests"}`
	} else {
		for _, b := range bs {
			b.units -= b.unit
			b.ok++
			b.grants = append(b.grants, now)
			if shown == nil || b.whole() <= shown.whole() {
				shown = b
			}
		}
		p.ok++
	}
	h := http.Header{}
	h.Set("X-Ratelimit-Limit", strconv.Itoa(shown.burst))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(shown.whole()))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(shown.reset(now), 10))
	lat := p.latency + p.jitter*time.Duration(p.n%5)/4
	p.n++
	p.mu.Unlock()
	if lat > 0 {
		<-p.clk.After(lat)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

// allowance is how many requests b could grant from its first grant to its
// last: its burst plus what it refilled in between.
func (b *simBucket) allowance() float64 {
	if len(b.grants) == 0 {
		return 0
	}
	span := b.grants[len(b.grants)-1].Sub(b.grants[0])
	return float64(b.burst) + b.perSecondRate()*span.Seconds()
}

// A plan is a simulated tenant's buckets and the routes each holds,
// written from auth0-facts.md ("Rate limits") and independent of the
// pacer's own route table.
type plan struct {
	name    string
	buckets func() (route func(method, path string) []*simBucket, all []*simBucket)
}

func isUserWrite(method, path string) bool {
	return (method == http.MethodPost && path == "/api/v2/users") ||
		((method == http.MethodPatch || method == http.MethodDelete) && strings.Count(path, "/") == 4 && strings.HasPrefix(path, "/api/v2/users/"))
}

func isUserRead(method, path string) bool {
	return method == http.MethodGet && (strings.HasPrefix(path, "/api/v2/users") || path == "/api/v2/users-by-email")
}

func isMembersWrite(method, path string) bool {
	return method == http.MethodPost && strings.HasPrefix(path, "/api/v2/organizations/") && strings.HasSuffix(path, "/members")
}

var plans = []plan{
	{"free", func() (func(string, string) []*simBucket, []*simBucket) {
		global := perSecond("Global", 2, 2)
		return func(string, string) []*simBucket { return []*simBucket{global} }, []*simBucket{global}
	}},
	{"essentials", func() (func(string, string) []*simBucket, []*simBucket) {
		write := perMinute("Global per second users_write group", 20, 200)
		read := perMinute("Global per second users_read group", 40, 500)
		conns := perMinute("Global per second connections_read group", 5, 50)
		other := perMinute("Global per second all other endpoints", 10, 150)
		members := perMinute("Global per second organization_members_write group", 20, 200)
		return func(method, path string) []*simBucket {
			switch {
			case isMembersWrite(method, path):
				return []*simBucket{members}
			case isUserWrite(method, path):
				return []*simBucket{write}
			case isUserRead(method, path):
				return []*simBucket{read}
			case method == http.MethodGet && strings.HasPrefix(path, "/api/v2/connections"):
				return []*simBucket{conns}
			}
			return []*simBucket{other}
		}, []*simBucket{write, read, conns, other, members}
	}},
	{"enterprise", func() (func(string, string) []*simBucket, []*simBucket) {
		global := perSecond("Global", 50, 16)
		members := perMinute("Global per second organization_members_write group", 20, 200)
		return func(method, path string) []*simBucket {
			if isMembersWrite(method, path) {
				return []*simBucket{global, members}
			}
			return []*simBucket{global}
		}, []*simBucket{global, members}
	}},
}
