package run

import (
	"fmt"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
)

// reopened is a report whose run's inputs were opened again, unchanged:
// each of its file:line keys still names the record the run saw there.
type reopened struct {
	Path  string
	State *report.State
	in    inputs
}

// inputMode is how a report's run read its input: create mode allows the
// plaintext password column, which import mode refuses.
func inputMode(h report.RunHeader) input.Mode {
	return specOf(h, "").sendMode()
}

// reopen loads the report at path and opens the inputs its header records,
// read the way the run read them (format, map, mode), for verify --report
// and report failures. It refuses a report of another tenant than env's
// (checkReportTenant, as --resume does), and an input or a map file whose
// bytes changed since the run (unchanged, which --resume applies too): the
// same file:line would then be another record. what names the caller's flag
// in messages.
func reopen(env *Env, path, what string, load func(string) (*report.State, error)) (*reopened, error) {
	st, err := load(path)
	if err != nil {
		return nil, Usagef("%s %s: %w", what, path, err)
	}
	if err := checkReportTenant(env, what, path, st.Header.Tenant); err != nil {
		return nil, err
	}
	in, err := recordedInputs(st.Header, what, path)
	if err != nil {
		return nil, err
	}
	in.byLine = st.Header.KeyedByLine()
	fp, mapHash, err := in.fingerprint()
	if err != nil {
		return nil, err
	}
	if err := unchanged(st.Header, fp, mapHash); err != nil {
		return nil, Usagef("%s %s: %w", what, path, err)
	}
	return &reopened{Path: path, State: st, in: in}, nil
}

// recordedInputs opens the inputs h records, read as the run read them.
func recordedInputs(h report.RunHeader, what, path string) (inputs, error) {
	var paths []string
	for _, in := range h.Inputs {
		if in.Path == "-" || in.Size < 0 {
			return inputs{}, Usagef("%s %s: the run read stdin, which cannot be read again", what, path)
		}
		paths = append(paths, in.Path)
	}
	return openInputs(paths, h.Settings, inputMode(h))
}

// unchanged compares what h recorded of its inputs and map with their
// fingerprint now (inputs.fingerprint).
func unchanged(h report.RunHeader, now []report.Input, mapHash string) error {
	then := h
	then.Inputs = now
	if err := h.Check(then); err != nil {
		return err // it names the input and what changed
	}
	// A report from before map hashes were recorded cannot be checked.
	if h.Settings.Map != "" && h.Settings.MapSHA256 != "" && h.Settings.MapSHA256 != mapHash {
		return fmt.Errorf("the --map file %s changed since the run (sha256 was %s, now %s): the same file:line would be read as another record", h.Settings.Map, short(h.Settings.MapSHA256), short(mapHash))
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
