#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Extracts a file the test VM printed base64 between markers:

    REMCOV-FILE-BEGIN NAME SIZE
    <base64 lines>
    REMCOV-FILE-END NAME

Usage: extract_vm_file.py SERIAL_LOG NAME OUT
Exit 0 with OUT written; 1 with a reason when the block is missing, cut
short, not base64 or of the wrong size.
"""
import base64
import binascii
import sys


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    log, name, out = sys.argv[1:]
    with open(log, 'rb') as f:
        lines = f.read().decode('utf-8', 'replace').replace('\r', '').split('\n')
    begin = [i for i, l in enumerate(lines)
             if l.startswith('REMCOV-FILE-BEGIN %s ' % name)]
    if not begin:
        print('extract_vm_file: no REMCOV-FILE-BEGIN %s in %s' % (name, log))
        return 1
    start = begin[-1]
    size = int(lines[start].split()[2])
    body = []
    for l in lines[start + 1:]:
        if l == 'REMCOV-FILE-END %s' % name:
            break
        body.append(l.strip())
    else:
        print('extract_vm_file: %s has no REMCOV-FILE-END (cut short)' % name)
        return 1
    try:
        data = base64.b64decode(''.join(body), validate=True)
    except binascii.Error as e:
        print('extract_vm_file: %s is not valid base64: %s' % (name, e))
        return 1
    if len(data) != size:
        print('extract_vm_file: %s decoded to %d bytes, the VM wrote %d' %
              (name, len(data), size))
        return 1
    with open(out, 'wb') as f:
        f.write(data)
    print('extract_vm_file: %s: %d bytes -> %s' % (name, size, out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
