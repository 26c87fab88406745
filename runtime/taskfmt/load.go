package taskfmt

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Load reads the task at p: a task folder or a .zip of one.
func Load(p string) (*Task, error) {
	name, files, err := ReadFiles(p)
	if err != nil {
		return nil, err
	}
	t, err := fromFiles(p, name, files)
	if err != nil {
		return nil, err
	}
	t.Dir = p
	return t, nil
}

// IsZip reports whether p names a .zip file.
func IsZip(p string) bool { return strings.EqualFold(filepath.Ext(p), ".zip") }

// ReadFiles reads the files that make up the task at p (a folder or a .zip)
// without interpreting them, keyed as FromFiles expects, and the task's
// default name (the folder name, or the zip name without .zip).
func ReadFiles(p string) (name string, files map[string][]byte, err error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", nil, &Error{Task: p, Message: "cannot read task: " + pathErr(err), Err: err}
	}
	abs, _ := filepath.Abs(p)
	if st.IsDir() {
		files, err = readDir(p)
		return filepath.Base(abs), files, err
	}
	if !IsZip(p) {
		return "", nil, &Error{Task: p, Message: "not a task: expected a folder or a .zip file"}
	}
	files, err = readZipFile(p)
	return strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs)), files, err
}

func pathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// taskFile reports whether rel (slash-separated) is one of a task's files.
func taskFile(rel string) bool {
	switch rel {
	case MetadataFile, MainFile, InputSchemaFile, OutputSchemaFile:
		return true
	}
	dir, base := path.Split(rel)
	return dir == TestsDir+"/" && strings.HasSuffix(base, ".json") && !strings.HasPrefix(base, ".")
}

func readDir(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	candidates := []string{MetadataFile, MainFile, InputSchemaFile, OutputSchemaFile}
	if entries, err := os.ReadDir(filepath.Join(dir, TestsDir)); err == nil {
		for _, e := range entries {
			if rel := TestsDir + "/" + e.Name(); !e.IsDir() && taskFile(rel) {
				candidates = append(candidates, rel)
			}
		}
	}
	total := 0
	for _, rel := range candidates {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		st, err := os.Stat(full)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, &Error{Task: dir, File: rel, Message: "cannot read: " + pathErr(err), Err: err}
		}
		if st.IsDir() {
			return nil, &Error{Task: dir, File: rel, Message: "is a folder, expected a file"}
		}
		if st.Size() > MaxFileBytes {
			return nil, &Error{Task: dir, File: rel, Message: fmt.Sprintf("file is %d bytes, more than the limit of %d", st.Size(), MaxFileBytes)}
		}
		if total += int(st.Size()); total > MaxTotalBytes {
			return nil, &Error{Task: dir, Message: fmt.Sprintf("task files total more than the limit of %d bytes", MaxTotalBytes)}
		}
		data, err := os.ReadFile(full)
		if err != nil {
			return nil, &Error{Task: dir, File: rel, Message: "cannot read: " + pathErr(err), Err: err}
		}
		files[rel] = data
	}
	return files, nil
}

func readZipFile(p string) (map[string][]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, &Error{Task: p, Message: "cannot read: " + pathErr(err), Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxZipBytes+1))
	if err != nil {
		return nil, &Error{Task: p, Message: "cannot read: " + err.Error(), Err: err}
	}
	files, err := ReadZip(data)
	if err != nil {
		return nil, withTask(err, p)
	}
	return files, nil
}

// ReadZip reads the task files of a zipped task folder. The folder may be
// the zip's root or its only top-level folder. Entries that would land
// outside the folder (absolute paths, "..") make the whole zip invalid, as do
// sizes over the limits.
func ReadZip(data []byte) (map[string][]byte, error) {
	if len(data) > MaxZipBytes {
		return nil, &Error{Message: fmt.Sprintf("zip is larger than the limit of %d bytes", MaxZipBytes)}
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, &Error{Message: "not a valid zip file: " + err.Error(), Err: err}
	}
	if len(zr.File) > MaxZipEntries {
		return nil, &Error{Message: fmt.Sprintf("zip has %d entries, more than the limit of %d", len(zr.File), MaxZipEntries)}
	}
	type entry struct {
		rel string
		f   *zip.File
	}
	var entries []entry
	for _, f := range zr.File {
		rel, err := cleanZipPath(f.Name)
		if err != nil {
			return nil, &Error{File: f.Name, Message: err.Error()}
		}
		if f.FileInfo().IsDir() || rel == "" {
			continue
		}
		if f.Mode()&fs.ModeSymlink != 0 {
			return nil, &Error{File: f.Name, Message: "symbolic links are not allowed in a task zip"}
		}
		entries = append(entries, entry{rel, f})
	}
	// Strip a single top-level folder when the task files are inside it.
	prefix := ""
	rootHasTask := false
	tops := map[string]bool{}
	for _, e := range entries {
		if e.rel == MainFile || e.rel == MetadataFile {
			rootHasTask = true
		}
		if i := strings.IndexByte(e.rel, '/'); i >= 0 {
			tops[e.rel[:i]] = true
		} else {
			tops[""] = true
		}
	}
	if !rootHasTask && len(tops) == 1 {
		for top := range tops {
			if top != "" {
				prefix = top + "/"
			}
		}
	}
	files := map[string][]byte{}
	total := 0
	sort.Slice(entries, func(i, j int) bool { return entries[i].rel < entries[j].rel })
	for _, e := range entries {
		rel := strings.TrimPrefix(e.rel, prefix)
		if !taskFile(rel) {
			continue
		}
		if _, dup := files[rel]; dup {
			return nil, &Error{File: rel, Message: "appears twice in the zip"}
		}
		if e.f.UncompressedSize64 > MaxFileBytes {
			return nil, &Error{File: rel, Message: fmt.Sprintf("file is %d bytes, more than the limit of %d", e.f.UncompressedSize64, MaxFileBytes)}
		}
		rc, err := e.f.Open()
		if err != nil {
			return nil, &Error{File: rel, Message: "cannot unzip: " + err.Error(), Err: err}
		}
		// The header's size may lie: read one byte past the limit to know.
		b, err := io.ReadAll(io.LimitReader(rc, MaxFileBytes+1))
		rc.Close()
		if err != nil {
			return nil, &Error{File: rel, Message: "cannot unzip: " + err.Error(), Err: err}
		}
		if len(b) > MaxFileBytes {
			return nil, &Error{File: rel, Message: fmt.Sprintf("file is more than the limit of %d bytes", MaxFileBytes)}
		}
		if total += len(b); total > MaxTotalBytes {
			return nil, &Error{Message: fmt.Sprintf("task files total more than the limit of %d bytes", MaxTotalBytes)}
		}
		files[rel] = b
	}
	return files, nil
}

// cleanZipPath checks a zip entry name and returns it relative and clean.
func cleanZipPath(name string) (string, error) {
	n := strings.ReplaceAll(name, "\\", "/")
	if strings.HasPrefix(n, "/") || (len(n) > 1 && n[1] == ':') {
		return "", errors.New("zip entry has an absolute path: refused (zip-slip)")
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", errors.New("zip entry leaves the task folder with ..: refused (zip-slip)")
		}
	}
	if strings.ContainsRune(n, 0) {
		return "", errors.New("zip entry name contains a NUL byte")
	}
	c := path.Clean(n)
	if c == "." {
		return "", nil
	}
	return c, nil
}

// IsTask reports whether p looks like a task: a .zip file, or a folder with
// a main.js or a metadata.json.
func IsTask(p string) bool {
	st, err := os.Stat(p)
	if err != nil {
		return false
	}
	if !st.IsDir() {
		return IsZip(p)
	}
	for _, f := range []string{MainFile, MetadataFile} {
		if _, err := os.Stat(filepath.Join(p, f)); err == nil {
			return true
		}
	}
	return false
}

// LoadDir loads every task in the folder dir: each sub-folder holding a
// main.js or metadata.json, and each .zip file. It returns the tasks that
// loaded, sorted by name, and one error per task that did not.
func LoadDir(dir string) ([]*Task, []error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{&Error{Task: dir, Message: "cannot read folder: " + pathErr(err), Err: err}}
	}
	var tasks []*Task
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if !IsTask(p) {
			continue
		}
		t, err := Load(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tasks = append(tasks, t)
	}
	sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].Name < tasks[j].Name })
	return tasks, errs
}

// Discover loads p as one task when it is one, or else every task in it.
func Discover(p string) ([]*Task, []error) {
	if IsTask(p) {
		t, err := Load(p)
		if err != nil {
			return nil, []error{err}
		}
		return []*Task{t}, nil
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, []error{&Error{Task: p, Message: "cannot read: " + pathErr(err), Err: err}}
	}
	if !st.IsDir() {
		return nil, []error{&Error{Task: p, Message: "not a task: expected a folder or a .zip file"}}
	}
	tasks, errs := LoadDir(p)
	if len(tasks) == 0 && len(errs) == 0 {
		errs = append(errs, &Error{Task: p, Message: "no task found: expected a task folder (with main.js) or a folder of tasks"})
	}
	return tasks, errs
}
