// Command cerebras-fake runs the fake Cerebras API of package cerebrastest
// as a standalone process, for `make demo` and for trying the SDK by hand:
//
//	go run ./cmd/cerebras-fake -addr 127.0.0.1:8080
//	CEREBRAS_BASE_URL=http://127.0.0.1:8080 CEREBRAS_API_KEY=anything go run ./examples/chat
//
// It takes chat and text completion bodies as JSON or MessagePack, plain or
// gzip-compressed, as the API does, and when it stops on SIGINT or SIGTERM
// it says how many bodies arrived in each encoding.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free port)")
	urlFile := flag.String("url-file", "", "write the server's base URL to this file once it listens")
	delay := flag.Duration("chunk-delay", 0, "delay between stream events, such as 30ms")
	apiKey := flag.String("api-key", "", "accept only this API key (default: any)")
	runTime := flag.Duration("batch-run-time", 0, "how long a batch's requests take to run, such as 30s (default: one step per retrieval)")
	flag.Parse()

	opts := []cerebrastest.Option{cerebrastest.WithAddr(*addr), cerebrastest.WithChunkDelay(*delay), cerebrastest.WithBatchRunTime(*runTime)}
	if *apiKey != "" {
		opts = append(opts, cerebrastest.WithAPIKey(*apiKey))
	}
	srv, err := cerebrastest.Start(opts...)
	if err != nil {
		log.Fatal(err)
	}
	if *urlFile != "" {
		tmp := *urlFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(srv.URL+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(tmp, *urlFile); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("cerebras-fake: listening on %s (pid %d)\n", srv.URL, os.Getpid())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	fmt.Println("cerebras-fake: stopped" + encodings(srv.Requests()))
}

// encodings counts the requests by how their bodies arrived (json, gzip,
// msgpack, msgpack+gzip), such as " (bodies: 3 json, 1 msgpack+gzip)".
func encodings(reqs []cerebrastest.Request) string {
	n := map[string]int{}
	for _, r := range reqs {
		if r.Encoding != "" {
			n[r.Encoding]++
		}
	}
	var parts []string
	for _, e := range []string{"json", "gzip", "msgpack", "msgpack+gzip"} {
		if n[e] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[e], e))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (bodies: " + strings.Join(parts, ", ") + ")"
}
