// Package consumer tests mcpkit the way a team that depends on it sees it:
// from a fresh module outside this repository, with a replace directive
// pointing at this checkout and the workspace off.
//
//   - TestConsumerServer writes the README's second server (every
//     ```go block marked <!-- consumer: FILE -->) verbatim into a new
//     module, builds it, runs it over stdio and over HTTP on 127.0.0.1,
//     lists its tools and calls one. The README cannot drift from what
//     compiles and serves.
//     The README's clients_test.go runs there too, against the example's
//     client files copied as the README says, and fails on a stale pin.
//   - TestEntriesInMemory, TestEntriesOverHTTP and TestEntriesConformance
//     build a server with resources, a resource template and a prompt
//     from the public API in this module and read and get them through a
//     go-sdk client (in memory, and over HTTP on 127.0.0.1 with static
//     tokens): a caller with the scope reads, one without is refused
//     before any handler runs, each access has its audit record
//     (operation, target, outcome); mcpkittest.Run's checks pass on it.
//   - TestConsumerModuleGraph imports every library package into a new
//     module and checks that its module graph holds no database driver,
//     browser driver, OTLP exporter or gRPC.
//   - TestSnippets compiles every ```go block of README.md and every Go
//     code block of the library's package docs (see snippet.go for the
//     rule a fragment follows).
//
// Those that build a module do so in a temporary directory with the go
// command and the shared module and build caches, and skip under -short.
package consumer
