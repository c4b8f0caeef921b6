// Command releasecheck writes a module into a file-based module proxy, as
// the Go command downloads it from a real one: the .info, .mod and .zip of
// one version, under the proxy's directory layout. The release check of
// .ci/release.sh builds a proxy of every module of the repository this way,
// at the versions its modules require, then builds consumers against it
// with no replace directive: the proof that `go get` of each module works.
//
//	go run . -proxy DIR -path MODULE -version VERSION -dir SOURCE
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

func main() {
	proxy := flag.String("proxy", "", "the proxy's root directory")
	path := flag.String("path", "", "the module path")
	version := flag.String("version", "", "the version to write")
	dir := flag.String("dir", "", "the module's source directory")
	flag.Parse()
	if *proxy == "" || *path == "" || *version == "" || *dir == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := write(*proxy, module.Version{Path: *path, Version: *version}, *dir); err != nil {
		log.Fatal(err)
	}
}

// write adds mv, whose source is dir, to the proxy rooted at proxy.
func write(proxy string, mv module.Version, dir string) error {
	escaped, err := module.EscapePath(mv.Path)
	if err != nil {
		return err
	}
	at := filepath.Join(proxy, escaped, "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return err
	}
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	base := filepath.Join(at, mv.Version)
	if err := os.WriteFile(base+".mod", mod, 0o644); err != nil {
		return err
	}
	info, _ := json.Marshal(struct{ Version, Time string }{mv.Version, time.Now().UTC().Format(time.RFC3339)})
	if err := os.WriteFile(base+".info", info, 0o644); err != nil {
		return err
	}
	if err := writeZip(base+".zip", mv, dir); err != nil {
		return err
	}
	return appendList(filepath.Join(at, "list"), mv.Version)
}

// writeZip writes the module zip of dir, as the Go command checks it: files
// of nested modules, vendor directories and files it would refuse are left
// out, and a module too large or with a bad file name is an error.
func writeZip(name string, mv module.Version, dir string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(f, mv, dir); err != nil {
		f.Close()
		return fmt.Errorf("zip %s: %w", mv, err)
	}
	return f.Close()
}

// appendList adds version to the proxy's list of versions, once.
func appendList(name, version string) error {
	old, err := os.ReadFile(name)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, v := range strings.Fields(string(old)) {
		if v == version {
			return nil
		}
	}
	return os.WriteFile(name, append(old, version+"\n"...), 0o644)
}
