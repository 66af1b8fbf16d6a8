using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace PortTools.TestHost
{
    /// <summary>
    /// Commands (one per run; output is "key=value" lines the tests read):
    ///   read [--skip-process] [--skip-options] [--local-address PREFIX]   read the live table as this user
    ///   lab                                              drive real sockets from stdin (see Lab)
    ///   unix-lab                                         drive UNIX sockets from stdin (see UnixLab)
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            try
            {
                return args.FirstOrDefault() switch
                {
                    "read" => Read(args.Skip(1).ToArray()),
                    "lab" => Lab.Run(),
                    "unix-lab" => UnixLab.Run(),
                    _ => Usage(),
                };
            }
            catch (Exception exception)
            {
                Console.WriteLine("error=" + exception.GetType().Name + ": " + exception.Message);
                return 1;
            }
        }

        private static int Usage()
        {
            Console.Error.WriteLine("usage: PortTools.TestHost read [--skip-process] [--local-address PREFIX]");
            return 2;
        }

        private static int Read(string[] args)
        {
            var query = new SocketQuery { IncludeProcesses = !args.Contains("--skip-process"), ReadSocketOptions = !args.Contains("--skip-options") };
            int at = Array.IndexOf(args, "--local-address");
            if (at >= 0)
            {
                query.LocalAddresses = new[] { AddressPrefix.Parse(args[at + 1]) };
            }

            SocketTableReadResult result = LiveSocketTable.Read(query);
            Console.WriteLine("count=" + result.Sockets.Count);
            foreach (SocketTuple socket in result.Sockets)
            {
                Console.WriteLine("socket=" + socket);
            }

            foreach (string warning in result.Warnings)
            {
                Console.WriteLine("warning=" + warning);
            }

            return 0;
        }
    }
}
