module github.com/ratchet-go/ratchet/core

go 1.26.0
