package throttle

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BucketStats are the counters of one of the tenant's buckets, as the pacer
// tells them apart (doc.go, "Buckets").
type BucketStats struct {
	// Name lists the routes whose requests it paced, e.g. "POST
	// /api/v2/users, PATCH /api/v2/users/{id}".
	Name string
	// Limit is its x-ratelimit-limit (burst); 0 for routes whose answers
	// never carried x-ratelimit-* headers.
	Limit int
	// Rate is the lower bound of its refill the pacer learned (requests per
	// second; the safe rate until it rests on a few seconds of answers).
	Rate float64
	// Requests are the attempts let through on its routes.
	Requests int64
	// RateLimited counts its 429s that refused a request for the rate limit
	// (a 429 the caller must see, as for Auth0's import-job limit, is not
	// counted here).
	RateLimited int64
	// Waited is the time its requests waited: pacing and retry waits,
	// summed over concurrent requests.
	Waited time.Duration
	// Held is wall time during which at least one of its requests was held
	// back, by pacing or a retry wait: the time this bucket (or a refusal)
	// set the run's pace. It never exceeds the run. Where one bucket serves
	// several route groups it is the longest of theirs (a lower bound).
	Held time.Duration
}

// routeState is one route's counters and its group.
type routeState struct {
	key      string
	group    *groupState
	requests int64
	limited  int64
	waited   time.Duration
}

// groupState is what the pacer knows of one route group's buckets.
type groupState struct {
	name group
	// members are the buckets its requests take from, learned from the
	// headers of its answers: usually one; two where a route is held by a
	// global bucket and its own (Enterprise organizations).
	members    []*mirror
	firstLimit int // the x-ratelimit-limit of its first answer with headers
	pending    int // its requests in flight sent before it had a bucket
	urgent     int // its requests (not Yielding) waiting for a token
	held       waitMeter
}

// grant is one request let through: the buckets it took a token from.
type grant struct {
	route      *routeState
	sent       time.Time
	takes      []take
	unresolved bool // its group had no bucket when it left
	seq        uint64
}

type take struct {
	m      *mirror
	ticket uint64
}

// buckets maps routes to mirrors (doc.go, "Buckets"). Its methods are
// called with the pacer's lock held.
type buckets struct {
	safeRate float64
	routes   map[string]*routeState
	groups   map[group]*groupState
	mirrors  map[string]*mirror
	// perGroup is set once the tenant showed a bucket per group
	// (Essentials/Professional): two of the basic groups showed buckets of
	// different sizes, or one a size Auth0 publishes only for per-group
	// buckets. Until then, groups whose answers show the same
	// x-ratelimit-limit share one mirror (one global bucket: Free,
	// Enterprise).
	perGroup bool
	open     map[*grant]struct{}
	seq      uint64
}

func newBuckets(safeRate float64) buckets {
	return buckets{
		safeRate: safeRate,
		routes:   map[string]*routeState{},
		groups:   map[group]*groupState{},
		mirrors:  map[string]*mirror{},
		open:     map[*grant]struct{}{},
	}
}

// route finds or makes the state of a route.
func (b *buckets) route(key string) *routeState {
	if rs, ok := b.routes[key]; ok {
		return rs
	}
	method, path, _ := cutRoute(key)
	if len(b.routes) >= maxRoutes {
		key = method + " (other paths)"
		if rs, ok := b.routes[key]; ok {
			return rs
		}
	}
	g := groupOf(method, path)
	gs := b.groups[g]
	if gs == nil {
		gs = &groupState{name: g}
		b.groups[g] = gs
	}
	rs := &routeState{key: key, group: gs}
	b.routes[key] = rs
	return rs
}

// gates says which mirrors a request of g must find a token in. wait is
// set when it must wait for the answer of its group's first request; known
// is whether any answer carried headers yet.
func (b *buckets) gates(g *groupState, known bool) (ms []*mirror, wait bool) {
	switch {
	case len(g.members) > 0:
		return g.members, false
	case !known:
		return nil, false // the limiter's safe default decides
	case g.pending > 0:
		// A route's first answers are paced conservatively: one at a
		// time until one shows its bucket.
		return nil, true
	case b.perGroup:
		return nil, false // a bucket of its own, not yet seen
	}
	// It may be in the global bucket: it takes from every bucket seen.
	return b.sortedMirrors(), false
}

func (b *buckets) sortedMirrors() []*mirror {
	ms := make([]*mirror, 0, len(b.mirrors))
	for _, m := range b.mirrors {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(x, y *mirror) int { return strings.Compare(x.key, y.key) })
	return ms
}

// urgentWaits reports whether a request that is not Yielding waits for a
// token of g's own group or of one of the buckets ms.
func (b *buckets) urgentWaits(g *groupState, ms []*mirror) bool {
	if g.urgent > 0 {
		return true
	}
	for _, o := range b.groups {
		if o.urgent == 0 {
			continue
		}
		for _, m := range o.members {
			if slices.Contains(ms, m) {
				return true
			}
		}
	}
	return false
}

// openGrant records a request let through.
func (b *buckets) openGrant(gr *grant) {
	b.seq++
	gr.seq = b.seq
	b.open[gr] = struct{}{}
	if gr.unresolved {
		gr.route.group.pending++
	}
}

func (b *buckets) closeGrant(gr *grant) {
	delete(b.open, gr)
	if gr.unresolved {
		gr.route.group.pending--
	}
}

// resolve is the mirror of the bucket an answer of g showed (limit),
// learning from it which buckets g takes from.
func (b *buckets) resolve(g *groupState, limit int) *mirror {
	if !b.perGroup && g.name.basic() {
		if g.firstLimit == 0 {
			g.firstLimit = limit
		}
		if b.showsGroups(g, limit) {
			b.split()
		}
	}
	key := "limit " + strconv.Itoa(limit)
	if b.perGroup {
		key = "group " + string(g.name)
	}
	m := b.mirrors[key]
	if m == nil {
		m = b.create(key, limit, g)
	}
	m.groups[g.name] = true
	if !slices.Contains(g.members, m) {
		g.members = append(g.members, m)
	}
	return m
}

// showsGroups reports whether an answer of the basic group g showing limit
// proves a bucket per group: a burst Auth0 publishes only for g's own
// bucket, or another basic group whose first answer showed another burst.
func (b *buckets) showsGroups(g *groupState, limit int) bool {
	if publishedPerGroup(g.name, limit) {
		return true
	}
	for _, o := range b.groups {
		if o.name.basic() && o.firstLimit != 0 && o.firstLimit != g.firstLimit {
			return true
		}
	}
	return false
}

// create makes a mirror; the requests in flight that may take from its
// bucket count as in flight there.
func (b *buckets) create(key string, limit int, g *groupState) *mirror {
	m := newMirror(key, limit, b.safeRate)
	b.mirrors[key] = m
	open := make([]*grant, 0, len(b.open))
	for gr := range b.open {
		if !b.perGroup || gr.route.group == g {
			open = append(open, gr)
		}
	}
	slices.SortFunc(open, func(x, y *grant) int { return cmp.Compare(x.seq, y.seq) })
	for _, gr := range open {
		gr.takes = append(gr.takes, take{m, m.adopt(gr.sent)})
	}
	return m
}

// split turns to a bucket per group: a mirror fed by one group's answers
// becomes that group's; one fed by several mixed buckets the tenant keeps
// apart and is dropped (those groups start again from their next answer).
func (b *buckets) split() {
	b.perGroup = true
	kept := map[string]*mirror{}
	for _, m := range b.mirrors {
		if len(m.groups) == 1 {
			for g := range m.groups {
				m.key = "group " + string(g)
			}
			kept[m.key] = m
		}
	}
	for _, g := range b.groups {
		g.members = nil
		if m := kept["group "+string(g.name)]; m != nil {
			g.members = []*mirror{m}
		}
	}
	b.mirrors = kept
}

// stats sums the routes' counters per bucket: a route counts for the first
// bucket its group takes from.
func (b *buckets) stats(now time.Time, rate func(*mirror) float64) []BucketStats {
	type entry struct {
		BucketStats
		routes []string
	}
	byMirror := map[*mirror]*entry{}
	byGroup := map[*groupState]*entry{}
	var all []*entry
	keys := make([]string, 0, len(b.routes))
	for k := range b.routes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		rs := b.routes[k]
		var e *entry
		if len(rs.group.members) > 0 {
			m := rs.group.members[0]
			if e = byMirror[m]; e == nil {
				e = &entry{BucketStats: BucketStats{Limit: m.limit, Rate: rate(m)}}
				byMirror[m] = e
				all = append(all, e)
			}
		} else if e = byGroup[rs.group]; e == nil {
			e = &entry{}
			byGroup[rs.group] = e
			all = append(all, e)
		}
		e.routes = append(e.routes, rs.key)
		e.Requests += rs.requests
		e.RateLimited += rs.limited
		e.Waited += rs.waited
		e.Held = max(e.Held, rs.group.held.total(now))
	}
	out := make([]BucketStats, 0, len(all))
	for _, e := range all {
		e.Name = strings.Join(e.routes, ", ")
		out = append(out, e.BucketStats)
	}
	slices.SortFunc(out, func(x, y BucketStats) int { return strings.Compare(x.Name, y.Name) })
	return out
}
