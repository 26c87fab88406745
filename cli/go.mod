module github.com/ratchet-go/ratchet/cli

go 1.26.0

replace (
	github.com/ratchet-go/ratchet/api => ../api
	github.com/ratchet-go/ratchet/caching => ../caching
	github.com/ratchet-go/ratchet/config => ../config
	github.com/ratchet-go/ratchet/core => ../core
	github.com/ratchet-go/ratchet/lib => ../lib
	github.com/ratchet-go/ratchet/plugin => ../plugin
	github.com/ratchet-go/ratchet/resilience => ../resilience
	github.com/ratchet-go/ratchet/runtime => ../runtime
	github.com/ratchet-go/ratchet/storage => ../storage
)

require (
	github.com/ratchet-go/ratchet/config v0.0.0-00010101000000-000000000000
	github.com/ratchet-go/ratchet/core v0.0.0-00010101000000-000000000000
	github.com/spf13/cobra v1.10.2
	gopkg.in/natefinch/lumberjack.v2 v2.2.1
)

require (
	github.com/fsnotify/fsnotify v1.9.0 // indirect
	github.com/go-viper/mapstructure/v2 v2.4.0 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/pelletier/go-toml/v2 v2.2.4 // indirect
	github.com/sagikazarmark/locafero v0.11.0 // indirect
	github.com/sourcegraph/conc v0.3.1-0.20240121214520-5f936abd7ae8 // indirect
	github.com/spf13/afero v1.15.0 // indirect
	github.com/spf13/cast v1.10.0 // indirect
	github.com/spf13/pflag v1.0.10 // indirect
	github.com/spf13/viper v1.21.0 // indirect
	github.com/subosito/gotenv v1.6.0 // indirect
	go.yaml.in/yaml/v3 v3.0.4 // indirect
	golang.org/x/sys v0.29.0 // indirect
	golang.org/x/text v0.28.0 // indirect
)
