package filestore_test

import (
	"bytes"
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
	"sync/atomic"
	"testing"
	"time"

	"orderdesk/adapters/filestore"
	"orderdesk/ports"
)

func newStore(t *testing.T) (*filestore.Local, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "files")
	s, err := filestore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func put(t *testing.T, s *filestore.Local, key string, content []byte) ports.FileInfo {
	t.Helper()
	info, err := s.Put(context.Background(), key, bytes.NewReader(content))
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

// read opens key and returns its whole content and info.
func read(t *testing.T, s *filestore.Local, key string) ([]byte, ports.FileInfo) {
	t.Helper()
	f, info, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b, info
}

// leftovers lists the temporary files under dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestNewLocalCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", "files")
	if _, err := filestore.NewLocal(dir); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("dir not created: %v", err)
	}

	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := filestore.NewLocal(file); err == nil {
		t.Error("NewLocal on a regular file: want an error")
	}
	if _, err := filestore.NewLocal(""); err == nil {
		t.Error(`NewLocal(""): want an error`)
	}
}

func TestLocalRoundTrip(t *testing.T) {
	s, dir := newStore(t)
	content := []byte("a photo, or near enough: \x00\xff\xd8 binary is fine")
	before := time.Now().Add(-time.Second)

	info := put(t, s, "photos/123/web.jpg", content)
	if info.Key != "photos/123/web.jpg" || info.Size != int64(len(content)) || info.ETag != etagOf(content) {
		t.Errorf("Put info = %+v; want key, size %d, etag %s", info, len(content), etagOf(content))
	}
	if info.ModTime.Before(before) || info.ModTime.After(time.Now().Add(time.Second)) {
		t.Errorf("ModTime = %v, want about now", info.ModTime)
	}

	got, oinfo := read(t, s, "photos/123/web.jpg")
	if !bytes.Equal(got, content) {
		t.Errorf("content = %q, want %q", got, content)
	}
	if oinfo.Key != info.Key || oinfo.Size != info.Size || oinfo.ETag != info.ETag || !oinfo.ModTime.Equal(info.ModTime) {
		t.Errorf("Open info = %+v, Put info = %+v", oinfo, info)
	}

	// The file lives at the key's path, and a second store on the same directory
	// (another process) sees it with the same ETag.
	if _, err := os.Stat(filepath.Join(dir, "photos", "123", "web.jpg")); err != nil {
		t.Errorf("file not at the key's path: %v", err)
	}
	other, err := filestore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, oinfo := read(t, other, "photos/123/web.jpg"); !bytes.Equal(got, content) || oinfo.ETag != info.ETag {
		t.Errorf("second store: %q %+v", got, oinfo)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

func TestLocalOpenSeeks(t *testing.T) {
	s, _ := newStore(t)
	content := []byte("0123456789abcdef")
	put(t, s, "labels/1.pdf", content)

	f, _, err := s.Open(context.Background(), "labels/1.pdf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := f.Seek(0, io.SeekEnd); err != nil || n != int64(len(content)) {
		t.Errorf("Seek(0, end) = %d, %v; want %d", n, err, len(content))
	}
	if _, err := f.Seek(10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(f)
	if err != nil || string(rest) != "abcdef" {
		t.Errorf("after Seek(10) read %q, %v; want %q", rest, err, "abcdef")
	}
	if _, err := f.Seek(-3, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if tail, _ := io.ReadAll(f); string(tail) != "def" {
		t.Errorf("after Seek(-3, end) read %q, want %q", tail, "def")
	}
}

func TestLocalEmptyFile(t *testing.T) {
	s, _ := newStore(t)
	info := put(t, s, "empty", nil)
	if info.Size != 0 || info.ETag != etagOf(nil) {
		t.Errorf("info = %+v", info)
	}
	got, oinfo := read(t, s, "empty")
	if len(got) != 0 || oinfo.Size != 0 || oinfo.ETag != etagOf(nil) {
		t.Errorf("read %q, %+v", got, oinfo)
	}
}

func TestLocalPutReplaces(t *testing.T) {
	s, _ := newStore(t)
	put(t, s, "photos/1/thumb.jpg", bytes.Repeat([]byte("old"), 1000))
	newer := []byte("new and shorter")
	info := put(t, s, "photos/1/thumb.jpg", newer)

	got, oinfo := read(t, s, "photos/1/thumb.jpg")
	if !bytes.Equal(got, newer) {
		t.Errorf("content = %q, want %q", got, newer)
	}
	if oinfo.ETag != etagOf(newer) || oinfo.ETag != info.ETag || oinfo.Size != int64(len(newer)) {
		t.Errorf("info = %+v, want the new file's", oinfo)
	}
}

func TestLocalOpenMissing(t *testing.T) {
	s, _ := newStore(t)
	put(t, s, "photos/1/web.jpg", []byte("x"))
	for _, key := range []string{
		"photos/2/web.jpg",   // never stored
		"photos/1/thumb.jpg", // its directory exists
		"photos/1",           // a directory, not a file
		"photos/1/web.jpg/x", // below a file
	} {
		f, _, err := s.Open(context.Background(), key)
		if ports.ErrorCodeOf(err) != ports.ENOTFOUND {
			t.Errorf("Open(%q) error = %v, want ENOTFOUND", key, err)
		}
		if f != nil {
			t.Errorf("Open(%q) returned a file", key)
			f.Close()
		}
	}
}

func TestLocalOpenRejectsForeignFile(t *testing.T) {
	s, dir := newStore(t)
	// A file placed by hand has no header: Open must fail, not serve a wrong ETag.
	for name, content := range map[string]string{"short": "tiny", "long": strings.Repeat("plain jpeg bytes ", 20)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.Open(context.Background(), name)
		if err == nil || ports.ErrorCodeOf(err) != ports.EINTERNAL {
			t.Errorf("Open(%s) error = %v, want an internal error", name, err)
		}
	}
}

func TestLocalRejectsBadKeys(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	for _, key := range []string{
		"",
		"/etc/passwd",
		"/photos/1/web.jpg",
		"../outside",
		"photos/../../outside",
		"photos/..",
		"..",
		".",
		"./photos/1",
		"photos//1",
		"photos/1/",
		`photos\1\web.jpg`,
		`..\outside`,
		"photos/\x00/web.jpg",
		".hidden",
		"photos/.tmp-123",
		strings.Repeat("a", 1025),
	} {
		if _, err := s.Put(ctx, key, strings.NewReader("x")); ports.ErrorCodeOf(err) != ports.EINVALID {
			t.Errorf("Put(%q) error = %v, want EINVALID", key, err)
		}
		if _, _, err := s.Open(ctx, key); ports.ErrorCodeOf(err) != ports.EINVALID {
			t.Errorf("Open(%q) error = %v, want EINVALID", key, err)
		}
		if err := s.Delete(ctx, key); ports.ErrorCodeOf(err) != ports.EINVALID {
			t.Errorf("Delete(%q) error = %v, want EINVALID", key, err)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "outside")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file was written outside the store: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("the store is not empty after bad keys: %v %v", entries, err)
	}
}

func TestLocalDelete(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	put(t, s, "photos/1/web.jpg", []byte("web"))
	put(t, s, "photos/1/thumb.jpg", []byte("thumb"))

	if err := s.Delete(ctx, "photos/1/web.jpg"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Open(ctx, "photos/1/web.jpg"); ports.ErrorCodeOf(err) != ports.ENOTFOUND {
		t.Errorf("Open after Delete: %v, want ENOTFOUND", err)
	}
	// Deleting again, or deleting what never existed, is not an error.
	for _, key := range []string{"photos/1/web.jpg", "photos/2/web.jpg", "never/was/here", "photos/1/thumb.jpg/x"} {
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%q) = %v, want nil", key, err)
		}
	}
	// A key naming a directory has no file: nothing under it goes.
	if err := s.Delete(ctx, "photos/1"); err != nil {
		t.Errorf("Delete(directory) = %v", err)
	}
	if got, _ := read(t, s, "photos/1/thumb.jpg"); string(got) != "thumb" {
		t.Errorf("a sibling was harmed: %q", got)
	}

	// Deleting the last file removes the directories it empties, not the store's own.
	if err := s.Delete(ctx, "photos/1/thumb.jpg"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "photos")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty directories were left: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("the store's directory went: %v", err)
	}
	put(t, s, "photos/1/web.jpg", []byte("again"))
}

type failingReader struct {
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, r.err
	}
	n := min(len(p), r.n)
	for i := range n {
		p[i] = 'z'
	}
	r.n -= n
	return n, nil
}

func TestLocalFailedPutKeepsPrevious(t *testing.T) {
	s, dir := newStore(t)
	old := []byte("the previous file")
	put(t, s, "labels/7.pdf", old)
	boom := errors.New("connection reset")

	ctx, cancel := context.WithCancel(context.Background())
	cancelling := readerFunc(func(p []byte) (int, error) { cancel(); return copy(p, "partial"), nil })

	for name, tc := range map[string]struct {
		ctx context.Context
		r   io.Reader
		err error
	}{
		"reader fails":      {context.Background(), &failingReader{n: 100_000, err: boom}, boom},
		"context cancelled": {ctx, io.MultiReader(cancelling, strings.NewReader(strings.Repeat("x", 100_000))), context.Canceled},
	} {
		_, err := s.Put(tc.ctx, "labels/7.pdf", tc.r)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: Put error = %v, want %v", name, err, tc.err)
		}
		if got, info := read(t, s, "labels/7.pdf"); !bytes.Equal(got, old) || info.ETag != etagOf(old) {
			t.Errorf("%s: the previous file changed: %q", name, got)
		}
		// A failed Put of a new key leaves nothing either.
		if _, err := s.Put(tc.ctx, "labels/8.pdf", &failingReader{n: 10, err: boom}); err == nil {
			t.Errorf("%s: Put of a failing reader succeeded", name)
		}
		if _, _, err := s.Open(context.Background(), "labels/8.pdf"); ports.ErrorCodeOf(err) != ports.ENOTFOUND {
			t.Errorf("%s: failed Put left a file: %v", name, err)
		}
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestLocalConcurrentPutNoTornRead has writers replace one key with files of
// different sizes and contents while readers read it: every read must be exactly one
// writer's file, with that file's size and ETag.
func TestLocalConcurrentPutNoTornRead(t *testing.T) {
	s, dir := newStore(t)
	const key = "photos/race/web.jpg"
	const writers, rounds = 6, 15
	contents := make([][]byte, writers)
	for w := range contents {
		// Same-size files would hide a size/content mismatch; vary both.
		contents[w] = bytes.Repeat([]byte{byte('A' + w)}, 64<<10+w*7919)
	}
	put(t, s, key, contents[0])

	var done atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for range 4 {
		wg.Go(func() {
			for !done.Load() {
				f, info, err := s.Open(context.Background(), key)
				if err != nil {
					report(err)
					return
				}
				b, err := io.ReadAll(f)
				f.Close()
				if err != nil {
					report(err)
					return
				}
				reads.Add(1)
				w := int(b[0] - 'A')
				switch {
				case w < 0 || w >= writers || !bytes.Equal(b, contents[w]):
					report(fmt.Errorf("torn read: %d bytes starting %q", len(b), b[:1]))
				case info.Size != int64(len(b)):
					report(fmt.Errorf("size %d for a %d-byte file", info.Size, len(b)))
				case info.ETag != etagOf(b):
					report(fmt.Errorf("ETag %s does not match the content of writer %d", info.ETag, w))
				}
			}
		})
	}
	var writersWG sync.WaitGroup
	for w := range writers {
		writersWG.Go(func() {
			for range rounds {
				if _, err := s.Put(context.Background(), key, bytes.NewReader(contents[w])); err != nil {
					report(err)
					return
				}
			}
		})
	}
	writersWG.Wait()
	done.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if reads.Load() == 0 {
		t.Error("no reads happened")
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

// TestLocalConcurrentPutAndDeleteInOneDir checks that Delete removing a directory it
// empties never makes a Put into that directory fail.
func TestLocalConcurrentPutAndDeleteInOneDir(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 2*200)
	for i := range 2 {
		wg.Go(func() {
			key := fmt.Sprintf("photos/shared/%d.jpg", i)
			for range 200 {
				if _, err := s.Put(ctx, key, strings.NewReader("x")); err != nil {
					errs <- err
				}
				if err := s.Delete(ctx, key); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestLocalHonoursContext(t *testing.T) {
	s, _ := newStore(t)
	put(t, s, "a", []byte("x"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, "b", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: %v", err)
	}
	if _, _, err := s.Open(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Open: %v", err)
	}
	if err := s.Delete(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete: %v", err)
	}
	if got, _ := read(t, s, "a"); string(got) != "x" {
		t.Errorf("a = %q", got)
	}
}
