using System;
using System.IO;

namespace PortTools.Text
{
    /// <summary>
    /// The lines of a reader as spans of one reused buffer, split as TextReader.ReadLine splits them
    /// ("\n", "\r\n" or "\r"; a last line break starts no further line), but without a string per line.
    /// A line stays valid until the next <see cref="TryRead"/>.
    /// </summary>
    internal sealed class LineBuffer
    {
        private readonly TextReader _reader;
        private char[] _buffer = new char[32 * 1024];
        private int _start;
        private int _end;
        private bool _ended;

        public LineBuffer(TextReader reader) => _reader = reader;

        public bool TryRead(out ReadOnlySpan<char> line)
        {
            while (true)
            {
                int stop = _buffer.AsSpan(_start, _end - _start).IndexOfAny('\r', '\n');
                if (stop >= 0)
                {
                    int at = _start + stop;

                    // A '\r' last in the buffer may be the first half of "\r\n": read on to see.
                    if (_buffer[at] == '\r' && at + 1 == _end && !_ended)
                    {
                        Fill();
                        continue;
                    }

                    line = new ReadOnlySpan<char>(_buffer, _start, stop);
                    _start = at + 1;
                    if (_buffer[at] == '\r' && _start < _end && _buffer[_start] == '\n')
                    {
                        _start++;
                    }

                    return true;
                }

                if (_ended)
                {
                    line = new ReadOnlySpan<char>(_buffer, _start, _end - _start);
                    bool any = _end > _start;
                    _start = _end;
                    return any;
                }

                Fill();
            }
        }

        private void Fill()
        {
            if (_start > 0)
            {
                Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2); // a line longer than the buffer
            }

            int read = _reader.Read(_buffer, _end, _buffer.Length - _end);
            if (read <= 0)
            {
                _ended = true;
            }
            else
            {
                _end += read;
            }
        }
    }
}
