#include "atoll/transport/device_probe.hpp"

#include <infiniband/verbs.h>
#include <ucp/api/ucp.h>
#include <uct/api/uct.h>

#include <cstdio>
#include <memory>

#include "atoll/common/error.hpp"

namespace atl {
namespace {

std::string port_speed(const ibv_port_attr& a) {
  double lane = 0;
  const char* name = "?";
  switch (a.active_speed) {
    case 1:
      lane = 2.5;
      name = "SDR";
      break;
    case 2:
      lane = 5;
      name = "DDR";
      break;
    case 4:
      lane = 10;
      name = "QDR";
      break;
    case 8:
      lane = 10.3125;
      name = "FDR10";
      break;
    case 16:
      lane = 14.0625;
      name = "FDR";
      break;
    case 32:
      lane = 25.78125;
      name = "EDR";
      break;
    case 64:
      lane = 53.125;
      name = "HDR";
      break;
    case 128:
      lane = 106.25;
      name = "NDR";
      break;
    default:
      break;
  }
  int width = a.active_width == 1    ? 1
              : a.active_width == 2  ? 4
              : a.active_width == 4  ? 8
              : a.active_width == 8  ? 12
              : a.active_width == 16 ? 2
                                     : 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%dx %s (%.0f Gb/s)", width, name, lane * width);
  return buf;
}

int mtu_bytes(ibv_mtu m) {
  switch (m) {
    case IBV_MTU_256:
      return 256;
    case IBV_MTU_512:
      return 512;
    case IBV_MTU_1024:
      return 1024;
    case IBV_MTU_2048:
      return 2048;
    case IBV_MTU_4096:
      return 4096;
  }
  return 0;
}

void probe_rdma(DeviceReport& report) {
  int count = 0;
  std::unique_ptr<ibv_device*, decltype(&ibv_free_device_list)> list(ibv_get_device_list(&count),
                                                                     ibv_free_device_list);
  if (!list) {
    report.rdma_note = "no RDMA devices (libibverbs found no RDMA driver on this machine)";
    return;
  }
  if (count == 0) report.rdma_note = "no RDMA devices on this machine";
  for (int i = 0; i < count; ++i) {
    RdmaDevice dev;
    dev.name = ibv_get_device_name(list.get()[i]);
    std::unique_ptr<ibv_context, decltype(&ibv_close_device)> ctx(ibv_open_device(list.get()[i]),
                                                                  ibv_close_device);
    ibv_device_attr attr{};
    if (ctx && ibv_query_device(ctx.get(), &attr) == 0) {
      for (int p = 1; p <= attr.phys_port_cnt; ++p) {
        ibv_port_attr pa{};
        if (ibv_query_port(ctx.get(), static_cast<std::uint8_t>(p), &pa) != 0) continue;
        dev.ports.push_back({p, ibv_port_state_str(pa.state),
                             pa.link_layer == IBV_LINK_LAYER_ETHERNET ? "Ethernet" : "InfiniBand",
                             port_speed(pa), mtu_bytes(pa.active_mtu)});
      }
    }
    report.rdma.push_back(std::move(dev));
  }
}

void probe_ucx(DeviceReport& report) {
  unsigned major = 0, minor = 0, release = 0;
  ucp_get_version(&major, &minor, &release);
  report.ucx_version = str_cat(major, ".", minor, ".", release);
  uct_component_h* components = nullptr;
  unsigned num_components = 0;
  if (uct_query_components(&components, &num_components) != UCS_OK) {
    report.ucx_note = "UCX could not list its components";
    return;
  }
  for (unsigned c = 0; c < num_components; ++c) {
    uct_component_attr_t attr{};
    attr.field_mask = UCT_COMPONENT_ATTR_FIELD_NAME | UCT_COMPONENT_ATTR_FIELD_MD_RESOURCE_COUNT;
    if (uct_component_query(components[c], &attr) != UCS_OK) continue;
    std::vector<uct_md_resource_desc_t> mds(attr.md_resource_count);
    attr.field_mask = UCT_COMPONENT_ATTR_FIELD_MD_RESOURCES;
    attr.md_resources = mds.data();
    if (uct_component_query(components[c], &attr) != UCS_OK) continue;
    for (const auto& md_desc : mds) {
      uct_md_config_t* config = nullptr;
      if (uct_md_config_read(components[c], nullptr, nullptr, &config) != UCS_OK) continue;
      uct_md_h md = nullptr;
      ucs_status_t st = uct_md_open(components[c], md_desc.md_name, config, &md);
      uct_config_release(config);
      if (st != UCS_OK) continue;
      uct_tl_resource_desc_t* tls = nullptr;
      unsigned num_tls = 0;
      if (uct_md_query_tl_resources(md, &tls, &num_tls) == UCS_OK) {
        for (unsigned t = 0; t < num_tls; ++t) {
          report.ucx.push_back({tls[t].tl_name, tls[t].dev_name});
        }
        uct_release_tl_resource_list(tls);
      }
      uct_md_close(md);
    }
  }
  uct_release_component_list(components);
}

}  // namespace

DeviceReport probe_devices() {
  DeviceReport report;
  probe_rdma(report);
  probe_ucx(report);
  std::string active;
  for (const RdmaDevice& d : report.rdma) {
    for (const RdmaPort& p : d.ports) {
      if (p.state == "PORT_ACTIVE" && active.empty()) {
        active = str_cat(d.name, ":", p.number, " (", p.link_layer, ", ", p.speed, ")");
      }
    }
  }
  bool shm = false, tcp = false;
  for (const UcxResource& r : report.ucx) {
    shm |= r.transport == "posix" || r.transport == "sysv" || r.transport == "cma" ||
           r.transport == "xpmem";
    tcp |= r.transport == "tcp";
  }
  if (!active.empty()) {
    report.choice = str_cat("ucx: RDMA through ", active, ", shared memory inside a node");
  } else if (shm || tcp) {
    report.choice =
        str_cat("ucx: ", shm ? "shared memory inside a node" : "", shm && tcp ? ", " : "",
                tcp ? "TCP between nodes" : "", " (no active RDMA port)");
  } else {
    report.choice = "tcp: UCX offers no usable transport here, use --transport tcp";
  }
  return report;
}

std::string format_report(const DeviceReport& r) {
  std::string out = "RDMA devices (libibverbs):\n";
  if (r.rdma.empty()) out += str_cat("  ", r.rdma_note, "\n");
  for (const RdmaDevice& d : r.rdma) {
    out += str_cat("  ", d.name, "\n");
    for (const RdmaPort& p : d.ports) {
      out += str_cat("    port ", p.number, ": ", p.state, ", ", p.link_layer, ", ", p.speed,
                     ", MTU ", p.mtu, "\n");
    }
  }
  out += str_cat("UCX ", r.ucx_version, " transports/devices:\n");
  if (r.ucx.empty()) out += str_cat("  none", r.ucx_note.empty() ? "" : ": " + r.ucx_note, "\n");
  for (const UcxResource& u : r.ucx) out += str_cat("  ", u.transport, "/", u.device, "\n");
  out += str_cat("atoll run would use: ", r.choice, "\n");
  return out;
}

}  // namespace atl
