package report

// Journal is the write-ahead report: the only place outcomes go. The core
// (import scheduler, create runner, verifier) writes every line through it;
// *Writer is the production one.
type Journal interface {
	Record(Entry) error
}

var _ Journal = (*Writer)(nil)
