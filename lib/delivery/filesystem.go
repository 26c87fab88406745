package delivery

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/ratchet-go/ratchet/resilience/retry"
)

// maxSuffix bounds the NAME-n.EXT names tried when Overwrite is false.
const maxSuffix = 10_000

// writeFile writes data to path as f says and returns the path written
// (path itself, or a suffixed name when the file exists and Overwrite is
// false). The file appears whole or not at all: it is written to a
// temporary file in the same directory, then renamed (overwrite) or linked
// (no overwrite) into place.
func writeFile(path string, data []byte, f *Filesystem) (string, error) {
	dir := filepath.Dir(path)
	if f.CreateDirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", classifyFSError(fmt.Errorf("creating directory: %w", err))
		}
	} else if st, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", retry.Permanent(fmt.Errorf("directory %s does not exist and create_dirs is false", dir))
		}
		return "", classifyFSError(err)
	} else if !st.IsDir() {
		return "", retry.Permanent(fmt.Errorf("%s is not a directory", dir))
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return "", retry.Permanent(fmt.Errorf("%s is a directory", path))
	}

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", classifyFSError(fmt.Errorf("creating temporary file: %w", err))
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a rename or link, removes nothing or the extra link
	_, werr := tmp.Write(data)
	cerr := tmp.Chmod(f.Permissions.Perm()) // exact mode, whatever the umask
	if err := errors.Join(werr, cerr, tmp.Close()); err != nil {
		return "", classifyFSError(fmt.Errorf("writing %s: %w", tmpName, err))
	}

	if f.Overwrite {
		if err := os.Rename(tmpName, path); err != nil {
			return "", classifyFSError(fmt.Errorf("writing %s: %w", path, err))
		}
		return path, nil
	}
	for n := 0; n <= maxSuffix; n++ {
		target := suffixed(path, n)
		err := os.Link(tmpName, target)
		if err == nil {
			return target, nil
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		// Hard links unsupported (some network and FAT file systems): create
		// the file exclusively and write it in place.
		if werr := writeExclusive(target, data, f.Permissions.Perm()); !errors.Is(werr, fs.ErrExist) {
			if werr != nil {
				return "", classifyFSError(fmt.Errorf("writing %s: %w", target, werr))
			}
			return target, nil
		}
	}
	return "", retry.Permanent(fmt.Errorf("%s and its %d suffixed names exist, and overwrite is false", path, maxSuffix))
}

func writeExclusive(path string, data []byte, perm fs.FileMode) error {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, werr := out.Write(data)
	err = errors.Join(werr, out.Chmod(perm), out.Close())
	if err != nil {
		os.Remove(path)
	}
	return err
}

// suffixed returns path for n == 0, else NAME-n.EXT.
func suffixed(path string, n int) string {
	if n == 0 {
		return path
	}
	ext := filepath.Ext(path)
	if strings.ContainsAny(ext, `/\`) || ext == filepath.Base(path) {
		ext = "" // a dot in a directory name or a dotfile such as ".env"
	}
	return strings.TrimSuffix(path, ext) + "-" + strconv.Itoa(n) + ext
}

// classifyFSError marks errors that a retry cannot fix as permanent: only
// a full disk, I/O errors and exhausted descriptors are worth retrying.
func classifyFSError(err error) error {
	for _, transient := range []error{syscall.ENOSPC, syscall.EIO, syscall.EAGAIN, syscall.EINTR, syscall.EMFILE, syscall.ENFILE} {
		if errors.Is(err, transient) {
			return err
		}
	}
	return retry.Permanent(err)
}

// resolvePath cleans a rendered path and, when roots is not empty, checks
// that it lies inside one of them, symbolic links resolved as far as the
// path exists.
func resolvePath(path string, roots []string) (string, error) {
	if strings.TrimSpace(path) == "" {
		return "", retry.Permanent(errors.New("the path is empty"))
	}
	clean := filepath.Clean(path)
	if len(roots) == 0 {
		return clean, nil
	}
	abs, err := filepath.Abs(clean)
	if err != nil {
		return "", retry.Permanent(err)
	}
	real := evalExisting(abs)
	for _, root := range roots {
		r, err := filepath.Abs(root)
		if err != nil {
			continue
		}
		if within(abs, r) && within(real, evalExisting(r)) {
			return clean, nil
		}
	}
	return "", retry.Permanent(fmt.Errorf("path %s is outside the directories allowed for output files", clean))
}

// evalExisting resolves symbolic links in the longest existing prefix of p.
func evalExisting(p string) string {
	rest := ""
	for cur := p; ; {
		if real, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(real, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

func within(p, root string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
