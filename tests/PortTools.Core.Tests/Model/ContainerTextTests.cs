using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace PortTools.Tests.Model
{
    /// <summary>A socket's container travels in the canonical text and in CSV and JSON exports.</summary>
    public class ContainerTextTests
    {
        private const string Id = "3f2a1b2c3d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef012";

        [Theory]
        [InlineData("tcp LISTEN 0.0.0.0:8080 netns=4026532301 container=docker:" + Id + " pid=7 process=web")]
        [InlineData("tcp LISTEN 0.0.0.0:8080 netns=4026532301 container=containerd:" + Id + "%20pod:5b1e2c3d-4e5f-6071-8293-a4b5c6d7e8f9")]
        [InlineData("udp UNCONN 0.0.0.0:53 container=pod:5b1e2c3d-4e5f-6071-8293-a4b5c6d7e8f9")]
        public void The_canonical_text_carries_the_container(string text)
        {
            SocketTuple socket = SocketTuple.Parse(text);
            Assert.NotNull(socket.Container);
            Assert.Equal(text, socket.ToString());
        }

        [Fact]
        public void A_bad_container_token_names_itself() =>
            Assert.Contains("'container=nonsense'", Assert.Throws<FormatException>(() => SocketTuple.Parse("tcp LISTEN 0.0.0.0:80 container=nonsense")).Message, StringComparison.Ordinal);

        [Fact]
        public void Csv_and_json_exports_read_the_container_back()
        {
            IReadOnlyList<SocketTuple> csv = SocketTableParser.Parse("\"Protocol\",\"State\",\"Local\",\"Remote\",\"NetworkNamespace\",\"Container\"\n\"Tcp\",\"Listen\",\"0.0.0.0:8080\",\"*:*\",\"red:4026532301\",\"docker:" + Id + "\"\n");
            Assert.Equal(("docker", Id, "red"), (csv[0].Container!.Runtime, csv[0].Container!.Id, csv[0].NetworkNamespace!.Name));

            IReadOnlyList<SocketTuple> json = SocketTableParser.Parse("[{\"Protocol\":\"Tcp\",\"State\":\"Listen\",\"Local\":\"0.0.0.0:8080\",\"Remote\":\"*:*\",\"Container\":{\"Runtime\":\"cri-o\",\"Id\":\"" + Id + "\",\"PodUid\":null,\"ShortId\":\"3f2a1b2c3d4e\"}}]");
            Assert.Equal(("cri-o", Id), (json[0].Container!.Runtime, json[0].Container!.Id));

            Assert.Throws<FormatException>(() => SocketTableParser.Parse("\"Protocol\",\"State\",\"Local\",\"Remote\",\"Container\"\n\"Tcp\",\"Listen\",\"0.0.0.0:8080\",\"*:*\",\"what\"\n"));
        }

        [Fact]
        public void UnixSockets_convert_from_their_text_and_from_property_bags()
        {
            Assert.True(UnixSocketConverter.TryConvert("u_str LISTEN /run/app.sock pid=812 process=app", _ => null, out UnixSocket? fromText, out _));
            Assert.Equal(812, fromText!.ProcessId);

            var bag = new Dictionary<string, object?>
            {
                ["Type"] = "Stream",
                ["State"] = "Listen",
                ["Path"] = "@bus",
                ["Inode"] = "42",
                ["NetworkNamespace"] = "red:4026532301",
                ["Processes"] = "dbus (pid 9)",
                ["PSComputerName"] = "web02",
            };
            Assert.True(UnixSocketConverter.TryConvert(bag, o => o is Dictionary<string, object?> d ? d : null, out UnixSocket? fromBag, out string? error), error);
            Assert.Equal((UnixAddressKind.Abstract, 42ul, "red", 9, "web02"), (fromBag!.AddressKind, fromBag.Inode!.Value, fromBag.NetworkNamespace!.Name, fromBag.ProcessId!.Value, fromBag.ComputerName));

            Assert.False(UnixSocketConverter.TryConvert(new Dictionary<string, object?> { ["Protocol"] = "Tcp" }, o => o as Dictionary<string, object?>, out _, out string? why));
            Assert.Contains("expected Type, State and Path", why, StringComparison.Ordinal);
            Assert.False(UnixSocketConverter.TryConvert("tcp LISTEN 0.0.0.0:80", _ => null, out _, out _));
        }
    }
}
