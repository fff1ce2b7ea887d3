package export

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

// fetch downloads the file at loc into s (gunzipped unless o.Gzip) and
// counts its users. The gzip stream's own checksum and length (and the
// answer's Content-Length) prove it whole: a download cut off anywhere is
// an error, never a shorter file. No error holds the link.
func (o *Options) fetch(ctx context.Context, loc string, s *sink) (int, error) {
	u, err := management.ParseLocation(loc)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("%w: not a URL", management.ErrBadLocation)
	}
	// The file is gzip: take its bytes as stored, never a transparently
	// decompressed body whose checksum nothing checks.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := o.HTTP.Do(req)
	if err != nil {
		return 0, withoutLink(err, u.Host)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusBadRequest:
		return 0, fmt.Errorf("%s answered %d: %w", u.Host, resp.StatusCode, errLinkRefused)
	case resp.StatusCode != http.StatusOK:
		return 0, fmt.Errorf("%s answered %d", u.Host, resp.StatusCode)
	}
	body := &countingReader{r: resp.Body}
	count := newCounter(o.Format)
	w := bufio.NewWriterSize(s.f, 256<<10)
	if err := copyFile(body, w, count, o.Gzip); err != nil {
		return 0, fmt.Errorf("reading the file from %s: %w", u.Host, withoutLink(err, u.Host))
	}
	if resp.ContentLength >= 0 && body.n != resp.ContentLength {
		return 0, fmt.Errorf("reading the file from %s: %d of %d bytes", u.Host, body.n, resp.ContentLength)
	}
	if err := w.Flush(); err != nil {
		return 0, fmt.Errorf("writing %s: %w", s.name(), err)
	}
	return count.users(), nil
}

// copyFile decompresses the gzip file in body, counting its users, and
// writes it to w: decompressed, or as it came with keep.
func copyFile(body io.Reader, w io.Writer, count *counter, keep bool) error {
	src := body
	if keep {
		src = io.TeeReader(body, w)
	}
	zr, err := gzip.NewReader(src)
	if err != nil {
		return fmt.Errorf("not a gzip file: %w", err)
	}
	var dst io.Writer = count
	if !keep {
		dst = io.MultiWriter(w, count)
	}
	if _, err := io.Copy(dst, zr); err != nil {
		return err
	}
	// Anything after the last gzip member (the reader stops there) is
	// copied too with keep, and is an error: the file must be gzip only.
	if n, err := io.Copy(io.Discard, src); err != nil || n > 0 {
		return errors.Join(err, fmt.Errorf("%d bytes after the gzip data", n))
	}
	return nil
}

// withoutLink strips the link from a transport error (net/http's quote
// the URL, signature included), keeping the host and what went wrong.
func withoutLink(err error, host string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, host, ue.Err)
	}
	return err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// downloadClient fetches export files: no token (none is needed, and the
// link leaves the tenant's domain), a bounded wait for an answer to
// start, and redirects followed only to where ParseLocation would go.
func downloadClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = time.Minute
	t.DisableCompression = true
	return &http.Client{Transport: t, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		_, err := management.ParseLocation(req.URL.String())
		return err
	}}
}
