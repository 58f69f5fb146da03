// Package filestore keeps the shop's files (photos, labels) on the local disk, under
// DATA_DIR. Every process that shares DATA_DIR sees the same files.
package filestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"orderdesk/ports"
)

// Local is a ports.FileStore on the local disk. The file for key "photos/x/web.jpg"
// is <dir>/photos/x/web.jpg. Each file begins with a one-line header that holds the
// SHA-256 of the content (the ETag), so that Open can return the ETag without reading
// the content and the ETag can never disagree with the content: both are replaced by
// the same rename. The content follows the header unchanged.
type Local struct {
	dir string
	// dirs is held shared while a Put makes its directory and temporary file, and
	// exclusively while a Delete removes the directories it emptied, so that in one
	// process a Delete never removes a directory between a Put's two steps (other
	// processes sharing the directory are handled by createTemp's retries).
	dirs sync.RWMutex
}

var _ ports.FileStore = (*Local)(nil)

const (
	headerMagic = "orderdesk-file v1 sha256="
	headerLen   = len(headerMagic) + 2*sha256.Size + 1 // magic, hex digest, newline
	tempPrefix  = ".tmp-"
	maxKeyLen   = 1024
)

// NewLocal returns a file store that keeps its files under dir, creating dir if needed.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("file store: no directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	return &Local{dir: abs}, nil
}

// Put writes the content to a temporary file in the key's directory, with its header,
// syncs it and renames it over the key's file: readers see the old file or the new one,
// never a mix. When r fails or ctx ends, the temporary file is removed.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) (ports.FileInfo, error) {
	name, err := l.path(key)
	if err != nil {
		return ports.FileInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return ports.FileInfo{}, err
	}
	dir := filepath.Dir(name)
	tmp, err := l.createTemp(dir)
	if err != nil {
		return ports.FileInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	// Reserve the header, write the content while hashing it, then fill in the header.
	if _, err := tmp.Write(make([]byte, headerLen)); err != nil {
		return ports.FileInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err != nil {
		return ports.FileInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	etag := hex.EncodeToString(h.Sum(nil))
	if _, err := tmp.WriteAt([]byte(headerMagic+etag+"\n"), 0); err != nil {
		return ports.FileInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := tmp.Chmod(0o640); err != nil {
		return ports.FileInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return ports.FileInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	fi, err := tmp.Stat()
	if err != nil {
		return ports.FileInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return ports.FileInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return ports.FileInfo{}, err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return ports.FileInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	renamed = true
	syncDir(dir)
	return ports.FileInfo{Key: key, Size: size, ModTime: fi.ModTime(), ETag: etag}, nil
}

// createTemp creates a temporary file in dir, creating dir first. Delete removes
// directories that it empties, possibly between the two steps, so it tries again.
func (l *Local) createTemp(dir string) (*os.File, error) {
	l.dirs.RLock()
	defer l.dirs.RUnlock()
	for i := 0; ; i++ {
		err := os.MkdirAll(dir, 0o750)
		var f *os.File
		if err == nil {
			f, err = os.CreateTemp(dir, tempPrefix+"*")
		}
		if err == nil || !errors.Is(err, fs.ErrNotExist) || i == 10 {
			return f, err
		}
	}
}

// Open reads the header for the ETag and returns a reader over the content.
func (l *Local) Open(ctx context.Context, key string) (io.ReadSeekCloser, ports.FileInfo, error) {
	name, err := l.path(key)
	if err != nil {
		return nil, ports.FileInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ports.FileInfo{}, err
	}
	f, err := os.Open(name)
	if missing(err) {
		return nil, ports.FileInfo{}, ports.Errorf(ports.ENOTFOUND, "File %s not found.", key)
	}
	if err != nil {
		return nil, ports.FileInfo{}, fmt.Errorf("open %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, ports.FileInfo{}, fmt.Errorf("open %s: %w", key, err)
	}
	if fi.IsDir() {
		_ = f.Close()
		return nil, ports.FileInfo{}, ports.Errorf(ports.ENOTFOUND, "File %s not found.", key)
	}
	var hdr [headerLen]byte
	_, err = f.ReadAt(hdr[:], 0)
	etag, ok := parseHeader(hdr[:])
	if err != nil || !ok {
		_ = f.Close()
		return nil, ports.FileInfo{}, fmt.Errorf("open %s: not written by the file store (no valid header)", key)
	}
	size := fi.Size() - int64(headerLen)
	info := ports.FileInfo{Key: key, Size: size, ModTime: fi.ModTime(), ETag: etag}
	return &localFile{SectionReader: io.NewSectionReader(f, int64(headerLen), size), f: f}, info, nil
}

// Delete removes the key's file, then any directories above it that this leaves
// empty. A key that names a directory has no file, so nothing is removed.
func (l *Local) Delete(ctx context.Context, key string) error {
	name, err := l.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Lstat(name)
	if missing(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if fi.IsDir() {
		return nil
	}
	if err := os.Remove(name); err != nil && !missing(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	l.dirs.Lock()
	defer l.dirs.Unlock()
	for d := filepath.Dir(name); d != l.dir && strings.HasPrefix(d, l.dir+string(filepath.Separator)); d = filepath.Dir(d) {
		if os.Remove(d) != nil { // not empty, or already gone
			break
		}
	}
	return nil
}

// path checks key and returns its file's path.
func (l *Local) path(key string) (string, error) {
	invalid := func(why string) error {
		return ports.Errorf(ports.EINVALID, "Invalid file key %q: %s.", key, why)
	}
	switch {
	case key == "":
		return "", invalid("it is empty")
	case len(key) > maxKeyLen:
		return "", invalid(fmt.Sprintf("it is longer than %d bytes", maxKeyLen))
	case strings.ContainsAny(key, "\\\x00"):
		return "", invalid("it contains a backslash or a NUL byte")
	case strings.HasPrefix(key, "/"):
		return "", invalid("it is absolute")
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return "", invalid("it has an empty segment")
		case seg == "." || seg == "..":
			return "", invalid(`it has a "." or ".." segment`)
		case seg[0] == '.':
			// Reserved for the store's temporary files.
			return "", invalid("a segment starts with a dot")
		}
	}
	rel := filepath.FromSlash(key)
	if !filepath.IsLocal(rel) { // Windows drive letters and reserved names
		return "", invalid("it is not a local path")
	}
	return filepath.Join(l.dir, rel), nil
}

// parseHeader returns the ETag from a file's header.
func parseHeader(hdr []byte) (string, bool) {
	if len(hdr) != headerLen || !strings.HasPrefix(string(hdr), headerMagic) || hdr[headerLen-1] != '\n' {
		return "", false
	}
	etag := string(hdr[len(headerMagic) : headerLen-1])
	for _, c := range etag {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return etag, true
}

// missing reports whether err says that a path does not exist, including because a
// parent is a file.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// syncDir makes a rename in dir durable. It is best effort: some file systems do not
// support syncing a directory, and the rename has happened either way.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// localFile is the content of a stored file, after its header.
type localFile struct {
	*io.SectionReader
	f *os.File
}

func (lf *localFile) Close() error { return lf.f.Close() }

// ctxReader stops reading when ctx ends, so a cancelled upload is not stored.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
