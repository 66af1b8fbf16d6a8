using PortTools.Linux;
using Xunit;

namespace PortTools.Tests.Linux
{
    /// <summary>Cgroup paths as the container runtimes write them (/proc/[pid]/cgroup), told apart.</summary>
    public class ContainerAttributionTests
    {
        private const string Id = "3f2a1b2c3d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef012";
        private const string Pod = "5b1e2c3d-4e5f-6071-8293-a4b5c6d7e8f9";

        [Theory]
        [InlineData("0::/system.slice/docker-" + Id + ".scope", "docker", Id, null)]
        [InlineData("0::/docker/" + Id, "docker", Id, null)]
        [InlineData("12:memory:/docker/" + Id + "\n0::/", "docker", Id, null)]
        [InlineData("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod5b1e2c3d_4e5f_6071_8293_a4b5c6d7e8f9.slice/cri-containerd-" + Id + ".scope", "containerd", Id, Pod)]
        [InlineData("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod5b1e2c3d_4e5f_6071_8293_a4b5c6d7e8f9.slice/crio-" + Id + ".scope", "cri-o", Id, Pod)]
        [InlineData("0::/kubepods/besteffort/pod" + Pod + "/" + Id, "kubernetes", Id, Pod)]
        [InlineData("0::/kubepods.slice/kubepods-pod5b1e2c3d_4e5f_6071_8293_a4b5c6d7e8f9.slice", null, null, Pod)]
        [InlineData("0::/machine.slice/libpod-" + Id + ".scope/container", "podman", Id, null)]
        [InlineData("0::/lxc.payload.web01/system.slice", "lxc", "web01", null)]
        [InlineData("0::/lxc/web02", "lxc", "web02", null)]
        [InlineData("0::/machine.slice/systemd-nspawn@build\\x2dbox.service/payload", "systemd-nspawn", "build-box", null)]
        public void Names_the_container(string cgroup, string? runtime, string? id, string? pod)
        {
            ContainerInfo? container = ContainerAttribution.FromCgroupFile(cgroup);
            Assert.NotNull(container);
            Assert.Equal((runtime, id, pod), (container!.Runtime, container.Id, container.PodUid));
            Assert.Equal(container, ContainerInfo.Parse(container.ToString()));
        }

        [Theory]
        [InlineData("0::/system.slice/sshd.service")]
        [InlineData("0::/user.slice/user-1000.slice/session-3.scope")]
        [InlineData("0::/")]
        [InlineData("0::/machine.slice/libpod-conmon-" + Id + ".scope")]
        [InlineData("0::/system.slice/docker-notanid.scope")]
        [InlineData("")]
        public void Host_processes_and_runtime_helpers_are_in_no_container(string cgroup) =>
            Assert.Null(ContainerAttribution.FromCgroupFile(cgroup));

        [Fact]
        public void The_short_id_is_docker_ps_s_twelve_characters()
        {
            Assert.Equal("3f2a1b2c3d4e", new ContainerInfo("docker", Id).ShortId);
            Assert.Equal("web01", new ContainerInfo("lxc", "web01").ShortId);
            Assert.Equal("docker:" + Id + " pod:" + Pod, new ContainerInfo("docker", Id, Pod).ToString());
            Assert.Equal("pod:" + Pod, new ContainerInfo(null, null, Pod).ToString());
            Assert.False(ContainerInfo.TryParse("nonsense", out _));
        }
    }
}
