using System;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using Xunit;

namespace PortTools.Module.Tests
{
    /// <summary>The views of issue 13 item 6: Test-PortBind's Holder column within 80 columns, and Get-SocketTuple's Timers view.</summary>
    public class ExplainViewContractTests
    {
        private static XElement View(string name) =>
            XDocument.Load(Path.Combine(ModuleMetadata.RepositoryRoot(), "module", "PortTools.format.ps1xml"))
                .Descendants("View").Single(v => v.Element("Name")!.Value == name);

        private static string[] Labels(XElement view) => view.Descendants("TableColumnHeader").Select(h => h.Element("Label")!.Value).ToArray();

        [Fact]
        public void PortBindResult_names_the_holder_and_fits_80_columns_before_the_Reason()
        {
            XElement view = View("PortTools.PortBindResult");
            Assert.Equal(new[] { "Protocol", "Address", "Port", "CanBind", "Error", "Holder", "Reason" }, Labels(view));
            int[] widths = view.Descendants("TableColumnHeader").Where(h => h.Element("Width") is not null).Select(h => int.Parse(h.Element("Width")!.Value)).ToArray();
            Assert.Equal(6, widths.Length); // every column but the last, the Reason, has a width
            Assert.True(widths.Sum() + widths.Length < 80, "the fixed columns and their separators leave room for the Reason at 80 columns");
            Type result = ModuleMetadata.Instance.CoreAssembly.GetType("PortTools.PortBindResult", throwOnError: true)!;
            Assert.All(Labels(view), label => Assert.NotNull(result.GetProperty(label)));
        }

        [Fact]
        public void SocketTuple_has_a_Timers_view_whose_headers_are_properties()
        {
            XElement view = View("Timers");
            Assert.Equal(new[] { "PortTools.SocketTuple", "Deserialized.PortTools.SocketTuple" }, view.Element("ViewSelectedBy")!.Elements("TypeName").Select(t => t.Value));
            Type socket = ModuleMetadata.Instance.CoreAssembly.GetType("PortTools.SocketTuple", throwOnError: true)!;
            Assert.All(Labels(view), label => Assert.NotNull(socket.GetProperty(label)));
            Assert.Contains("TimerExpiresIn", Labels(view));
        }
    }
}
