using System;
using System.Text;

namespace PortTools.Text
{
    /// <summary>
    /// Process names from other tools' text made to match what the live reader gives (the kernel's
    /// command name, see Linux/ProcessNames.cs), so that -ProcessName filters the same either way.
    /// </summary>
    internal static class ProcessNameText
    {
        /// <summary>
        /// Decodes lsof's \xNN and URL-style %NN escapes ("nginx:\x20master" or "nginx:%20master"), takes
        /// the file name of a path ("/usr/sbin/nginx"), and drops the title a daemon writes over its argv[0]
        /// after ": " ("nginx: master process", "postgres: checkpointer"), or a bare trailing ':' where a
        /// tool cut that title. A name lsof cut at 9 characters stays cut: the text does not hold the rest.
        /// </summary>
        /// <param name="name">The name as the tool printed it.</param>
        /// <param name="normalized">The name as the live reader gives it, when it differs.</param>
        /// <returns>Whether the name changed; when not, the caller pools the text as it is.</returns>
        public static bool TryNormalize(ReadOnlySpan<char> name, out string normalized)
        {
            normalized = string.Empty;
            if (name.IndexOfAny('\\', '%', ':') < 0 && (name.IsEmpty || name[0] != '/'))
            {
                return false;
            }

            string text = name.IndexOfAny('\\', '%') >= 0 ? Decode(name) : name.ToString();
            if (text.Length > 1 && text[0] == '/')
            {
                text = text.Substring(text.LastIndexOf('/') + 1);
            }

            int title = text.IndexOf(": ", StringComparison.Ordinal);
            if (title > 0)
            {
                text = text.Substring(0, title);
            }
            else if (text.Length > 1 && text[text.Length - 1] == ':')
            {
                text = text.Substring(0, text.Length - 1);
            }

            if (text.Length == 0 || name.SequenceEqual(text.AsSpan()))
            {
                return false;
            }

            normalized = text;
            return true;
        }

        private static string Decode(ReadOnlySpan<char> name)
        {
            var builder = new StringBuilder(name.Length);
            for (int i = 0; i < name.Length; i++)
            {
                char c = name[i];
                if (c == '\\' && i + 3 < name.Length && name[i + 1] == 'x' && TryHex(name[i + 2], name[i + 3], out char decoded))
                {
                    builder.Append(decoded);
                    i += 3;
                }
                else if (c == '%' && i + 2 < name.Length && TryHex(name[i + 1], name[i + 2], out decoded))
                {
                    builder.Append(decoded);
                    i += 2;
                }
                else
                {
                    builder.Append(c);
                }
            }

            return builder.ToString();
        }

        private static bool TryHex(char high, char low, out char value)
        {
            int h = HexValue(high);
            int l = HexValue(low);
            value = (char)((h << 4) | l);
            return h >= 0 && l >= 0;
        }

        private static int HexValue(char c) => c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
