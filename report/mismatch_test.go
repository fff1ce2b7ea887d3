package report

import "testing"

// TestMismatchSaysWhatChanged: a resume refused because the run differs
// says what differs in words, naming the input by place and path, not
// `inputs[0].size was "45665"`.
func TestMismatchSaysWhatChanged(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(h *RunHeader)
		want string
	}{
		{"mode", func(h *RunHeader) { h.Mode = "create" }, "report is for a different run: it is of an import run, not a create run"},
		{"connection", func(h *RunHeader) { h.Connection = "other" }, `report is for a different run: its connection is "db", not "other"`},
		{"upsert", func(h *RunHeader) { h.Upsert = false }, "report is for a different run: it was run with --upsert, this run without"},
		{"inputs", func(h *RunHeader) { h.Inputs = append(h.Inputs, Input{Path: "b.csv"}) }, "report is for a different run: it read 1 input, this run 2"},
		{"path", func(h *RunHeader) { h.Inputs[0].Path = "other.csv" }, "report is for a different run: input 1 was users.csv, now other.csv"},
		{"size", func(h *RunHeader) { h.Inputs[0].Size = 45665 }, "input 1 (users.csv) changed since the run read it: 10 bytes then, 45,665 bytes now"},
		{"content", func(h *RunHeader) { h.Inputs[0].SHA256 = "cd" }, "input 1 (users.csv) changed since the run read it: same size, other content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := testHeader()
			tc.edit(&now)
			err := testHeader().Check(now)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}
