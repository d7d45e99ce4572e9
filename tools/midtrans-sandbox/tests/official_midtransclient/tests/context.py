# -*- coding: utf-8 -*-

import sys
import os
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..')))

import midtransclient
from midtransclient.config import ApiConfig
from midtransclient.http_client import HttpClient