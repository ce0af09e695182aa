// What this machine offers the transport: RDMA devices and ports (libibverbs) and the
// transports and devices UCX can use; it works, and says so, on machines without RDMA.
#pragma once

#include <string>
#include <vector>

namespace atl {

struct RdmaPort {
  int number = 0;
  std::string state;       ///< "ACTIVE", "DOWN", ...
  std::string link_layer;  ///< "InfiniBand" or "Ethernet" (RoCE)
  std::string speed;       ///< e.g. "4x EDR (100 Gb/s)"
  int mtu = 0;             ///< active MTU in bytes
};

struct RdmaDevice {
  std::string name;
  std::vector<RdmaPort> ports;
};

struct UcxResource {
  std::string transport;  ///< "rc_mlx5", "posix", "tcp", ...
  std::string device;     ///< "mlx5_0:1", "memory", "eth0", ...
};

struct DeviceReport {
  std::vector<RdmaDevice> rdma;
  std::string rdma_note;  ///< why the list is empty, when it is
  std::string ucx_version;
  std::vector<UcxResource> ucx;
  std::string ucx_note;
  std::string choice;  ///< the backend `atoll run` would use and why
};

DeviceReport probe_devices();
/// Human-readable, several lines.
std::string format_report(const DeviceReport& report);

}  // namespace atl
