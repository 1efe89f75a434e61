"""Transports: PSRP (pypsrp), WinRM (pywinrm) and SSH (paramiko), behind one contract."""
