package run

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"syscall"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
)

// A pipe (stdin, a FIFO, process substitution, a device) can be read only
// once, and hashing it for the report header would consume it. A run with a
// report therefore copies every pipe first, hashing on the way, to a 0600
// file next to the report, and reads that copy: the header records the
// copy, so --resume, verify --report and report failures read the same
// bytes again. The copy is kept: it is what a resume reads.

// spoolPipes copies each pipe among in's paths to a spool file named after
// the report (REPORT.input-N.FORMAT) and returns the inputs reading the
// copies instead, and the copies made. It stops, removing the copy it was
// making, as soon as ctx ends, even when the pipe never ends nor writes.
func (in inputs) spoolPipes(ctx context.Context, env *Env, reportPath string) (inputs, []string, error) {
	out := in
	out.Paths = append([]string(nil), in.Paths...)
	out.spooled = maps.Clone(in.spooled)
	if out.spooled == nil {
		out.spooled = map[string]report.Input{}
	}
	var made []string
	for i, p := range in.Paths {
		if !isPipe(p) {
			continue
		}
		h, err := spoolOne(ctx, env, in, i, reportPath)
		if err != nil {
			removeSpools(env, made)
			return in, nil, err
		}
		made = append(made, h.Path)
		out.Paths[i], out.spooled[h.Path] = h.Path, h
	}
	return out, made, nil
}

// spoolOne copies input i to its spool file.
func spoolOne(ctx context.Context, env *Env, in inputs, i int, reportPath string) (report.Input, error) {
	path := in.Paths[i]
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	if path == "-" {
		open = func() (io.ReadCloser, error) { return io.NopCloser(env.Stdin), nil }
	}
	pipe := openPipe(ctx, open)
	defer pipe.Close()
	src := bufio.NewReaderSize(pipe, pipeBufSize)
	format, err := in.format(path)
	if err != nil {
		return report.Input{}, &UsageError{Err: err}
	}
	if format == input.FormatAuto {
		// The copy's name says its format, as a file's extension does,
		// so that a resume reads it the same way.
		format = input.Sniff(src)
		if err := ctx.Err(); err != nil {
			return report.Input{}, err
		}
	}
	dst := fmt.Sprintf("%s.input-%d.%s", reportPath, i+1, format)
	if input.IsGzip(src) {
		// The copy stays compressed, as the pipe was: its hash is the
		// header's, and the reader decompresses it each time.
		dst += ".gz"
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return report.Input{}, Usagef("--input %s: the copy %s exists (left by a run that stopped before writing its report?): delete it, or choose another --report", pipeName(path), dst)
	}
	if err != nil {
		// Like a report that cannot be created: before any request.
		return report.Input{}, &UsageError{Err: fmt.Errorf("--input %s: creating its copy: %w", pipeName(path), err)}
	}
	fmt.Fprintf(env.Notes, "a0bulk: copying %s to %s: the run and its resume read that copy; delete it once the run is complete\n", pipeName(path), dst)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if err == nil {
		err = f.Sync() // the report will name it: it must outlive a crash
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		removeSpools(env, []string{dst})
		if ctx.Err() != nil {
			return report.Input{}, ctx.Err()
		}
		return report.Input{}, fmt.Errorf("copying %s to %s: %w", pipeName(path), dst, err)
	}
	return report.Input{Path: dst, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), From: pipeName(path)}, nil
}

// removeSpools removes copies no report names (the run stopped before
// writing it): nothing could resume from them.
func removeSpools(env *Env, paths []string) {
	for _, p := range paths {
		if err := os.Remove(p); err == nil {
			fmt.Fprintf(env.Notes, "a0bulk: removed %s: the run stopped before writing its report\n", p)
		}
	}
}
