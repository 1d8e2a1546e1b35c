@_exported import HNConfig
